// Fixtures of the run history tests: whole runs published through a project key, and a wait
// for the gateway to have written what it accepted.
import type { Sut } from '@crucible/testbed';
import type { PublishingProject } from './history-isolation.js';
import { HistoryPublisher, snapshot, summary, type PublishAnswer } from './history-publisher.js';

const app = 'metrics-gateway';

/** Publishes one whole run (run_start, `points` snapshots, run_end) and returns every answer. */
export async function publishRun(p: HistoryPublisher, runId: string, o: { scenario: string; p99: number; passed: boolean; branch: string; points?: number; machine?: string; startedAt?: Date }): Promise<PublishAnswer[]> {
  const answers: PublishAnswer[] = [];
  let seq = 1;
  const run = { commit: `c-${runId}`, branch: o.branch, machine: o.machine ?? 'ci-2cpu', profile: 'quick', ...(o.startedAt ? { started_at: o.startedAt.toISOString() } : {}) };
  answers.push(await p.publish({ type: 'run_start', run_id: runId, seq: seq++, run }));
  for (let t = 1; t <= (o.points ?? 3); t++) answers.push(await p.publish({ type: 'snapshot', run_id: runId, seq: seq++, snapshot: snapshot(runId, o.scenario, t, o.p99) }));
  answers.push(await p.publish({ type: 'run_end', run_id: runId, seq: seq++, summary: summary(runId, o.scenario, o.p99, o.passed) }));
  return answers;
}

/** Waits until the gateway's history buffer is empty (everything accepted is written). */
export async function drained(url: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const h = (await (await fetch(`${url}/health`)).json()) as { history: { buffered: number } | null };
    if (h.history?.buffered === 0) return;
    if (Date.now() > deadline) throw new Error(`history not written within ${withinMs} ms: ${JSON.stringify(h.history)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Two projects, each publishing `runs` runs with its own key under run ids of its own. */
export async function twoProjects(sut: Sut, runs = 3): Promise<[PublishingProject, PublishingProject]> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const out: PublishingProject[] = [];
  for (const name of ['alpha', 'beta']) {
    const project = `${name}-${suffix}`;
    const { api_key } = await sut.createProject(project, app);
    const pub = await HistoryPublisher.connect(sut.url(app), api_key);
    const ids: string[] = [];
    for (let i = 0; i < runs; i++) {
      const runId = `${project}-run-${i}`;
      const answers = await publishRun(pub, runId, { scenario: 'checkout', p99: 40 + 10 * i, passed: i !== 1, branch: i === 2 ? 'feature' : 'main' });
      const refused = answers.find((a) => !a.ok);
      if (refused) throw new Error(`publishing ${runId} was refused: ${JSON.stringify(refused)}`);
      ids.push(runId);
    }
    pub.close();
    out.push({ project, apiKey: api_key, runs: ids, scenario: 'checkout' });
  }
  await drained(sut.url(app));
  return [out[0]!, out[1]!];
}
