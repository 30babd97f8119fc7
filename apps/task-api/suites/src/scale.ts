// The task-api scale suite: `npx nx run @crucible/task-api-suites:scale [--profile=full]`.
// Three task-api replicas behind a real nginx (tools/install-nginx.sh) on the embedded
// PostgreSQL, and, with numbers: each replica's share of the traffic, 1 against 3 replicas
// at the same rate (p99, throughput, CPU per 1,000 requests), and a replica SIGKILLed under
// a mixed read/write load. Each step lives in ./scale/. A real redis-server (tools/install-redis.sh) holds the shared resource cache:
// one client's requests across replicas get the same answers, and the cache's hit rate with
// Redis up, and the documents served from disk with it down.
import { suiteMain } from '@crucible/suite-kit';
import { sharedCache } from './scale/cache.js';
import type { ScaleContext } from './scale/context.js';
import { killedReplica } from './scale/killed-replica.js';
import { oneVsThree } from './scale/one-vs-three.js';
import { projectCurve } from './scale/project-curve.js';
import { replicaShares } from './scale/replica-shares.js';
import { sharedState } from './scale/shared-state.js';
import { userLadder } from './scale/user-ladder.js';

const replicas = 3;
const projects = ['north', 'south', 'east'];

suiteMain<ScaleContext>({
  name: 'task-api scale',
  target: 'scale',
  project: '@crucible/task-api-suites',
  sut: { apps: ['task-api'], replicas: { 'task-api': replicas }, balance: ['task-api'], redis: true, env: { LOG_LEVEL: 'warn' } },
  config: { replicas, balancer: 'nginx (round robin, keep-alive, max_fails=1 fail_timeout=5s)' },
  async setup(kit) {
    const keys: Record<string, string> = {};
    for (const p of projects) keys[p] = (await kit.sut.createProject(p)).api_key;
    const lb = kit.sut.balancer('task-api');
    kit.log(`nginx at ${lb.url} in front of ${lb.upstreams.join(', ')}`);
    return { balancedUrl: lb.url, replicaUrls: lb.upstreams, projects, keys };
  },
  // The killed replica last of the nginx steps: it brings up three replicas of its own.
  steps: () => [replicaShares(), oneVsThree(), sharedState(), sharedCache(), projectCurve(), userLadder(), killedReplica()],
});
