// The sharding simulation of docs/scaling.md: `npm run shard-sim -w @crucible/task-api-suites`.
// Maps per-project load onto K Citus worker nodes the way Citus would place it — PostgreSQL's
// own hashtext(project_id) (from a real server: the embedded one, or DATABASE_URL), the int32
// hash space cut into 32 shards, shards round-robin over the nodes — and prints the hottest
// node's share of the load at 20 and 50 projects, for the scale suite's even spread (its
// project curve sends the same rate to every project) and for a skewed one (Zipf, s = 1: the
// biggest tenant has as much load as the next few together). Deterministic: same ids, same figures.
import { createDb, createPool, hashProjects, simulateShards, shardingPlan } from '@crucible/db';
import { startPostgres } from '@crucible/testbed';

const server = await startPostgres(process.env['DATABASE_URL'] ? { url: process.env['DATABASE_URL'] } : {});
const db = createDb(createPool({ connectionString: server.adminUrl, max: 1 }));
try {
  const idSets: Record<string, (n: number) => string[]> = {
    'sequential ids (project-01 …)': (n) => Array.from({ length: n }, (_, i) => `project-${String(i + 1).padStart(2, '0')}`),
    // UUID-like ids from a fixed seed, as tenants created by an app would have.
    'random ids (seeded)': (n) => Array.from({ length: n }, (_, i) => seededId(i)),
  };
  const loads: Record<string, (n: number) => number[]> = {
    even: (n) => new Array<number>(n).fill(1),
    'Zipf s=1': (n) => Array.from({ length: n }, (_, i) => 1 / (i + 1)),
  };
  console.log(`| ids | load | projects | nodes | hottest node's share | vs fair (1/K) |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const [idName, ids] of Object.entries(idSets)) {
    for (const [loadName, load] of Object.entries(loads)) {
      for (const n of [20, 50]) {
        const list = ids(n);
        const hashes = await hashProjects(db, list);
        const weights = load(n);
        for (const nodes of [2, 4, 8]) {
          const sim = simulateShards(list.map((id, i) => ({ hash: hashes.get(id) as number, load: weights[i] as number })), nodes, shardingPlan.shardCount);
          console.log(`| ${idName} | ${loadName} | ${n} | ${nodes} | ${(sim.hottestShare * 100).toFixed(1)} % | ${sim.hottestVsFair.toFixed(2)}× |`);
        }
      }
    }
  }
} finally {
  await db.destroy();
  await server[Symbol.asyncDispose]();
}

function seededId(i: number): string {
  // mulberry32 from seed i: 32 hex characters, the shape of a UUID without dashes.
  let a = (i + 1) * 0x9e3779b9;
  let out = '';
  for (let k = 0; k < 4; k++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out += (((t ^ (t >>> 14)) >>> 0).toString(16)).padStart(8, '0');
  }
  return out;
}
