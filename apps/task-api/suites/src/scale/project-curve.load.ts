// The project-count curve's load and evidence: one mixed operation of one project (reads,
// a foreign read, claims, creates with a generated id), every answer kept for the correctness
// verdicts (warm-up included: its claims and creates are in the database too), and the
// per-project fairness figures read from the engine's per-project breakdown.
import { checkApiLeakage, checkClaims, expectVerdict, type ApiObservation, type ClaimAttempt } from '@crucible/checkers';
import type { ListTasksResponse, Task, Verdict } from '@crucible/contracts';
import { claimedRowsFromDb, type Database } from '@crucible/db';
import { mergeHistograms, percentileMs } from '@crucible/instrument-kit';
import type { HttpResponse, IterationContext, ScenarioResult } from '@crucible/load-engine';
import { send } from '@crucible/suite-kit';
import { sql, type Kysely } from 'kysely';
import { reconcileTaskIds, type DependencyOp } from '../resilience.ids.js';
import { codeOf } from '../stress/context.js';

/** The mix, per 20 operations; its share of claims sizes the seeded pending tasks. */
export const curveMix = { next: 10, list: 4, foreign: 1, claim: 3, create: 2 } as const;
export const curveMixLabel = '50 % GET /tasks/next, 20 % GET /tasks, 5 % GET /tasks?project=<another>, 15 % POST /tasks/claim, 10 % POST /tasks (id from the ID service)';
export const claimShare = curveMix.claim / 20;

/** The projects of one point of the curve, and every answer they got. */
export interface CurveGroup {
  readonly side: 'one' | 'three';
  readonly count: number;
  readonly projects: readonly string[];
  readonly keys: Readonly<Record<string, string>>;
  /** Every run, reported; `judged` holds the attempt of each round that counts. */
  readonly runs: ScenarioResult[];
  readonly judged: ScenarioResult[];
  readonly observations: ApiObservation[];
  readonly claims: ClaimAttempt[];
  readonly creates: DependencyOp[];
  /** The priming's figures (`primed_first_create_p50_ms`, `…_max_ms`), set before the rounds. */
  readonly primed: Record<string, number>;
}

// A 32-bit integer hash: the kind of operation is independent of the project (i mod n), so
// every project gets the whole mix whatever the number of projects.
function mix(i: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

const itemsOf = (res: HttpResponse): ApiObservation['items'] => {
  if (res.status !== 200) return [];
  const body = res.json() as ListTasksResponse | Task;
  // Only whose row it is matters to the checker: the rest of each row is dropped at once.
  return ('items' in body ? body.items : [body]).map((t) => ({ project_id: t.project_id, task_id: t.task_id }));
};

/**
 * One operation of iteration `it` for the group's project `it.iteration mod n`, tagged with
 * the project (the breakdown the fairness figures read). Resolves to its HTTP status; an
 * answer outside the contract (anything but 200/201, 404 `no_task` on next, 404 or an
 * empty page on a foreign listing) is unsuccessful.
 */
export async function curveOperation(group: CurveGroup, it: IterationContext): Promise<{ status: number; ok: boolean }> {
  const n = group.projects.length;
  const project = group.projects[it.iteration % n] as string;
  const auth = { authorization: `Bearer ${group.keys[project] as string}` };
  it.tag('project', project);
  let slot = mix(it.iteration) % 20;
  const observe = (res: HttpResponse, endpoint: string, requested?: string) => {
    const items = itemsOf(res);
    group.observations.push({ asking_project: project, requested_project: requested, endpoint, status: res.status, items });
    return items;
  };
  if (slot < curveMix.next) {
    const res = await it.http.request({ path: '/tasks/next', headers: auth });
    observe(res, 'GET /tasks/next');
    return { status: res.status, ok: res.status === 200 || (res.status === 404 && codeOf(res) === 'no_task') };
  }
  if ((slot -= curveMix.next) < curveMix.list) {
    const res = await it.http.request({ path: '/tasks?limit=20&status=pending', headers: auth });
    observe(res, 'GET /tasks');
    return { status: res.status, ok: res.status === 200 };
  }
  if ((slot -= curveMix.list) < curveMix.foreign) {
    // Another project of the group, or of the whole table when the group has one.
    const other = n > 1 ? (group.projects[(it.iteration + 1) % n] as string) : `${project}-other`;
    const res = await it.http.request({ path: `/tasks?project=${encodeURIComponent(other)}`, headers: auth });
    const items = observe(res, 'GET /tasks?project=', other);
    return { status: res.status, ok: res.status === 404 || (res.status === 200 && items.length === 0) };
  }
  if ((slot -= curveMix.foreign) < curveMix.claim) {
    const worker = `curve-w${it.vu}-${it.iteration}`;
    const res = await it.http.request({ method: 'POST', path: '/tasks/claim', headers: auth, body: { worker } });
    const task = res.status === 200 ? (res.json() as Task) : undefined;
    const noTask = res.status === 404 && codeOf(res) === 'no_task';
    group.claims.push({ project_id: project, worker, status: res.status, ...(task ? { result: 'claimed', task_id: task.task_id } : { result: noTask ? 'no_task' : 'error' }) });
    return { status: res.status, ok: task !== undefined || noTask };
  }
  const call = await createAs(group, it, project, auth, `curve create ${it.vu}-${it.iteration} of ${project}`);
  return { status: call.status ?? 0, ok: call.ok };
}

/** A create with a generated id for `project`, kept in the group's creates (reconciled against the ID service). */
async function createAs(group: CurveGroup, it: IterationContext, project: string, auth: { authorization: string }, title: string) {
  const call = await send(it.http, { method: 'POST', path: '/tasks', headers: auth, body: { title } }, (s) => s === 201);
  const taskId = call.status === 201 ? (call.body as { task_id?: string } | undefined)?.task_id : undefined;
  group.creates.push({ kind: 'generated', call, title, ...(taskId === undefined ? {} : { taskId }) });
  return call;
}

/**
 * Primes project `it.iteration` of the group on the replica the scenario targets: its first
 * create there (which waits for the project's block of ids from the ID service) and a read
 * (its key verified). The create is the group's like any other; resolves to its latency in ms,
 * and throws on an answer outside the contract.
 */
export async function primeOperation(group: CurveGroup, it: IterationContext): Promise<number> {
  const project = group.projects[it.iteration] as string;
  const headers = { authorization: `Bearer ${group.keys[project] as string}` };
  const call = await createAs(group, it, project, headers, `curve prime ${it.vu}-${it.iteration} of ${project}`);
  if (!call.ok) throw new Error(`priming create of ${project}: ${call.status ?? call.code}`);
  const read = await it.http.request({ path: '/tasks?limit=1', headers });
  if (read.status !== 200) throw new Error(`priming read of ${project}: ${read.status}`);
  return call.end - call.start;
}

/** Seeds `perProject` pending tasks in every project (ids `<project>-00001` …), in one statement. */
export async function seedPending(db: Kysely<Database>, projects: readonly string[], perProject: number): Promise<void> {
  await sql`
    insert into tasks (project_id, task_id, title, status, priority)
    select p, p || '-' || lpad(g::text, 5, '0'), 'curve task ' || g || ' of ' || p, 'pending', (g * 7) % 10
    from unnest(${[...projects]}::text[]) p, generate_series(1, ${perProject}::int) g`.execute(db);
  await sql`analyze tasks`.execute(db);
}

/**
 * The group's correctness verdicts over every answer of every run (warm-ups included):
 * `api-isolation` (no row of another project, no rows for a foreign `?project=`),
 * `exactly-once-claims` (every claim served from the seeded pending tasks exactly once, the
 * database's `claimed_by` agreeing) and `task-id-reconciliation` over the group's projects
 * (no generated id answered twice, each stored as created and issued by the ID service).
 */
export async function groupVerdicts(db: Kysely<Database>, group: CurveGroup, pendingPerProject: number): Promise<Verdict[]> {
  const isolation = checkApiLeakage(group.observations);
  const claims = checkClaims(group.claims, { pending: pendingPerProject, dbRows: await claimedRowsFromDb(db, group.projects) });
  const perProject = await Promise.all(group.projects.map((p) => reconcileTaskIds(db, p, group.creates.filter((c) => c.title?.endsWith(` of ${p}`)))));
  return [isolation, claims, idsOfGroup(perProject)];
}

/** One `task-id-reconciliation` for the group: each project's reconciliation, counts summed (a project may have had no create). */
function idsOfGroup(perProject: readonly Verdict[]): Verdict {
  const counts: Record<string, number> = {};
  for (const v of perProject) for (const [k, n] of Object.entries(v.counts)) if (k !== 'last_issued') counts[k] = (counts[k] ?? 0) + n;
  const bad = ['duplicated', 'misplaced', 'not_issued', 'refused_but_stored', 'given_lost'].reduce((a, k) => a + (counts[k] ?? 0), 0);
  const acked = counts['generated_acknowledged'] ?? 0;
  return expectVerdict(
    'task-id-reconciliation',
    bad === 0 && acked > 0,
    `${perProject.length} projects: ${acked} generated task ids acknowledged; ${counts['duplicated'] ?? 0} answered twice, ${counts['misplaced'] ?? 0} not stored as created, ${counts['not_issued'] ?? 0} never issued by the ID service, ${counts['refused_but_stored'] ?? 0} refused but stored`,
    counts,
    perProject.filter((v) => v.status === 'fail').flatMap((v) => v.examples.slice(0, 3)).slice(0, 10),
  );
}

/**
 * Per-project fairness over the group's judged runs (their per-project breakdowns merged):
 * the slowest project's p99 and its share of the answered operations against its fair share
 * (1/n), and the least share any project got. A project the engine never answered has share 0.
 */
export function fairness(group: CurveGroup): Record<string, number> {
  const n = group.projects.length;
  const per = group.projects.map((p) => {
    const entries = group.judged.flatMap((r) => (r.breakdown?.entries[p] ? [r.breakdown.entries[p]] : []));
    const answered = entries.reduce((a, e) => a + e.requests - e.errors, 0);
    const requests = entries.reduce((a, e) => a + e.requests, 0);
    const h = entries.length ? mergeHistograms(entries.map((e) => e.histogram)) : undefined;
    const p99 = h ? percentileMs(h, 99) : NaN;
    h?.destroy();
    return { p, answered, requests, p99 };
  });
  const total = per.reduce((a, x) => a + x.answered, 0);
  const share = (x: { answered: number }) => (total ? x.answered / total / (1 / n) : 0);
  const slowest = per.reduce((a, b) => (Number.isNaN(a.p99) || b.p99 > a.p99 ? b : a));
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    slowest_project_p99_ms: r3(slowest.p99),
    slowest_project_requests: slowest.requests,
    slowest_project_share_of_fair: r3(share(slowest)),
    min_project_share_of_fair: r3(Math.min(...per.map(share))),
    requests_per_project_min: Math.min(...per.map((x) => x.requests)),
  };
}
