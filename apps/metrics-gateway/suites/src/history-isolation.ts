import type { Verdict } from '@crucible/contracts';
import { checkApiLeakage, expectVerdict, type ApiObservation } from '@crucible/checkers';
import type { Database } from '@crucible/db';
import type { Kysely } from 'kysely';

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
}

const get = async (url: string, key: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Listed & { run?: { run_id: string } } };
};

/**
 * The run history's isolation, over the API and in SQL. Each project's key reads
 * `/api/v1/runs`, `/api/v1/trend` and another project's run detail `rounds` times; every run in
 * an answer is attributed to the project SQL files it under (not to what the answer says),
 * so a run of another project is a leak even if the API relabels it. Then SQL: every run a
 * project published is stored under that project, and what its key lists is exactly that.
 *
 * Returns `api-isolation` (the leakage checker) and `history-sql-isolation`.
 */
export async function checkHistoryIsolation(gatewayUrl: string, db: Kysely<Database>, projects: readonly PublishingProject[], rounds = 10): Promise<Verdict[]> {
  const stored = await db.selectFrom('gateway_runs').select(['project_id', 'run_id']).execute();
  const owner = new Map<string, string[]>();
  for (const r of stored) owner.set(r.run_id, [...(owner.get(r.run_id) ?? []), r.project_id]);
  const attribute = (runId: string) => ({ run_id: runId, project_id: owner.get(runId)?.length === 1 ? owner.get(runId)![0] : undefined });

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
      for (const other of projects) {
        if (other === p || other.runs.length === 0) continue;
        const foreign = other.runs[round % other.runs.length]!;
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
  const sql = expectVerdict(
    'history-sql-isolation',
    misplaced + missing + mismatched === 0,
    misplaced + missing + mismatched === 0
      ? `${published} published runs of ${projects.length} projects each stored under its publisher, and each key lists exactly its project's runs`
      : `${misplaced} runs stored under another project, ${missing} not stored, ${mismatched} projects whose listing differs from SQL`,
    { projects: projects.length, published_runs: published, stored_runs: stored.length, misplaced_runs: misplaced, missing_runs: missing, listings_differing: mismatched },
    examples,
  );
  return [checkApiLeakage(observations), sql];
}
