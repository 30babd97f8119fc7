import type { Verdict } from '@crucible/contracts';
import { checkApiLeakage, expectVerdict, type ApiObservation } from '@crucible/checkers';
import type { Database } from '@crucible/db';
import { sql as q, type Kysely } from 'kysely';

/** A project that published runs to the gateway with its own API key. */
export interface PublishingProject {
  readonly project: string;
  readonly apiKey: string;
  /** The run ids it published (distinct across projects, so SQL can tell whose a row is). */
  readonly runs: readonly string[];
  /** A scenario its runs ran, for the trend endpoint. */
  readonly scenario: string;
}

interface Listed {
  runs?: { run_id: string }[];
  series?: { requests: number; errors: number }[];
}

const get = async (url: string, key: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Listed & { run?: { run_id: string } } };
};

/**
 * The run history's isolation, over the API and in SQL. Each project's key reads
 * `/api/v1/runs`, `/api/v1/trend` and another project's run detail `rounds` times; every run in
 * an answer is attributed to the project SQL files it under (not to what the answer says),
 * so a run of another project is a leak even if the API relabels it; a comparison of its own
 * run with another project's is answered 404, never with the foreign run. Then SQL: every run a
 * project published is stored under that project, what its key lists is exactly that, and
 * the error breakdown (`/api/v1/errors`, an aggregate with no run ids to attribute) sums
 * exactly the requests and errors of that project's points in SQL.
 *
 * Returns `api-isolation` (the leakage checker) and `history-sql-isolation`.
 */
export async function checkHistoryIsolation(gatewayUrl: string, db: Kysely<Database>, projects: readonly PublishingProject[], rounds = 10): Promise<Verdict[]> {
  const stored = await db.selectFrom('gateway_runs').select(['project_id', 'run_id']).execute();
  const owner = new Map<string, string[]>();
  for (const r of stored) owner.set(r.run_id, [...(owner.get(r.run_id) ?? []), r.project_id]);
  const attribute = (runId: string) => ({ run_id: runId, project_id: owner.get(runId)?.length === 1 ? owner.get(runId)![0] : undefined });

  const since = new Date(Date.now() - 86_400_000);
  const until = new Date(Date.now() + 3_600_000);
  const { rows: sums } = await q<{ project_id: string; requests: string; errors: string }>`
    select r.project_id, sum(p.requests) as requests, sum(p.errors) as errors
    from gateway_runs r join gateway_points p on p.project_id = r.project_id and p.run_id = r.run_id
    where r.started_at >= ${since} and r.started_at < ${until} group by r.project_id`.execute(db);
  const sqlSums = new Map(sums.map((r) => [r.project_id, `${Number(r.requests)}/${Number(r.errors)}`]));
  const breakdownExamples: unknown[] = [];
  let breakdowns = 0;
  let breakdownsDiffering = 0;

  const observations: ApiObservation[] = [];
  const listedBy = new Map<string, Set<string>>();
  for (let round = 0; round < rounds; round++) {
    for (const p of projects) {
      const list = await get(`${gatewayUrl}/api/v1/runs?limit=500`, p.apiKey);
      const ids = (list.body.runs ?? []).map((r) => r.run_id);
      const seen = listedBy.get(p.project) ?? new Set<string>();
      for (const id of ids) seen.add(id);
      listedBy.set(p.project, seen);
      observations.push({ asking_project: p.project, endpoint: 'GET /api/v1/runs', status: list.status, items: ids.map(attribute) });
      const trend = await get(`${gatewayUrl}/api/v1/trend?scenario=${encodeURIComponent(p.scenario)}&last=100`, p.apiKey);
      observations.push({ asking_project: p.project, endpoint: 'GET /api/v1/trend', status: trend.status, items: (trend.body.runs ?? []).map((r) => attribute(r.run_id)) });
      const errors = await get(`${gatewayUrl}/api/v1/errors?since=${since.toISOString()}&until=${until.toISOString()}&bucket=hour`, p.apiKey);
      const series = errors.body.series ?? [];
      const apiSum = `${series.reduce((n, s) => n + s.requests, 0)}/${series.reduce((n, s) => n + s.errors, 0)}`;
      breakdowns++;
      if (errors.status !== 200 || apiSum !== (sqlSums.get(p.project) ?? '0/0')) {
        breakdownsDiffering++;
        if (breakdownExamples.length < 5) breakdownExamples.push({ kind: 'breakdown_differs_from_sql', project: p.project, status: errors.status, api_requests_errors: apiSum, sql_requests_errors: sqlSums.get(p.project) ?? '0/0' });
      }
      for (const other of projects) {
        if (other === p || other.runs.length === 0) continue;
        const foreign = other.runs[round % other.runs.length]!;
        const own = p.runs[round % p.runs.length];
        if (own !== undefined) {
          const compared = await get(`${gatewayUrl}/api/v1/compare?base=${encodeURIComponent(own)}&run=${encodeURIComponent(foreign)}`, p.apiKey);
          observations.push({
            asking_project: p.project,
            requested_project: other.project,
            endpoint: 'GET /api/v1/compare (own run against another project’s)',
            status: compared.status,
            items: compared.body.run ? [attribute(compared.body.run.run_id)] : [],
          });
        }
        const detail = await get(`${gatewayUrl}/api/v1/runs/${encodeURIComponent(foreign)}`, p.apiKey);
        observations.push({
          asking_project: p.project,
          requested_project: other.project,
          endpoint: 'GET /api/v1/runs/:id (another project’s run)',
          status: detail.status,
          items: detail.body.run ? [attribute(detail.body.run.run_id)] : [],
        });
      }
    }
  }

  const examples: unknown[] = [];
  let misplaced = 0;
  let missing = 0;
  let mismatched = 0;
  for (const p of projects) {
    const own = new Set(stored.filter((r) => r.project_id === p.project).map((r) => r.run_id));
    for (const run of p.runs) {
      if (own.has(run)) continue;
      if (owner.has(run)) misplaced++;
      else missing++;
      if (examples.length < 10) examples.push({ kind: owner.has(run) ? 'misplaced_run' : 'missing_run', project: p.project, run_id: run, stored_under: owner.get(run) ?? [] });
    }
    const listed = listedBy.get(p.project) ?? new Set();
    if (listed.size !== own.size || [...own].some((r) => !listed.has(r))) {
      mismatched++;
      if (examples.length < 10) examples.push({ kind: 'listing_differs_from_sql', project: p.project, api_listed: listed.size, sql_rows: own.size });
    }
  }
  const published = projects.reduce((n, p) => n + p.runs.length, 0);
  const faults = misplaced + missing + mismatched + breakdownsDiffering;
  const sql = expectVerdict(
    'history-sql-isolation',
    faults === 0,
    faults === 0
      ? `${published} published runs of ${projects.length} projects each stored under its publisher, each key lists exactly its project's runs, and ${breakdowns} error breakdowns each sum exactly its project's points`
      : `${misplaced} runs stored under another project, ${missing} not stored, ${mismatched} projects whose listing differs from SQL, ${breakdownsDiffering} of ${breakdowns} error breakdowns whose sums differ from the project's points in SQL`,
    {
      projects: projects.length,
      published_runs: published,
      stored_runs: stored.length,
      misplaced_runs: misplaced,
      missing_runs: missing,
      listings_differing: mismatched,
      breakdowns,
      breakdowns_differing: breakdownsDiffering,
    },
    [...examples, ...breakdownExamples],
  );
  return [checkApiLeakage(observations), sql];
}
