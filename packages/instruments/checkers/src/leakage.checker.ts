import type { Verdict } from '@crucible/contracts';
import { keysPerProject, rowsPerProject, type Database } from '@crucible/db';
import type { Kysely } from 'kysely';

/** One API answer as a client recorded it, for the leakage checker. */
export interface ApiObservation {
  /** Project of the API key that made the request. */
  asking_project: string;
  /** Project the request named (`?project=`), when it named one. Another project than the key's is a foreign request. */
  requested_project?: string | undefined;
  /** What was called, for examples (`GET /tasks`). */
  endpoint: string;
  status: number;
  /** The rows in the answer (a list's `items`, or the single object of a read), each with its `project_id`. */
  items: readonly { project_id?: unknown; [field: string]: unknown }[];
}

/**
 * Checks API answers for cross-project leakage: every row an answer carries belongs to the
 * asking key's project, and a request naming another project gets no rows at all (a 404
 * or an empty list). Rows without a `project_id` count as leaks: isolation cannot be shown.
 *
 * @example
 * checkApiLeakage([{ asking_project: 'alpha', endpoint: 'GET /tasks', status: 200, items: [{ project_id: 'alpha' }] }]).status; // 'pass'
 */
export function checkApiLeakage(observations: readonly ApiObservation[], options: { maxExamples?: number } = {}): Verdict {
  const max = options.maxExamples ?? 10;
  const examples: unknown[] = [];
  let items = 0;
  let leaked = 0;
  let unscoped = 0;
  let foreign = 0;
  let foreignWithRows = 0;
  const leakedPairs = new Set<string>();
  for (const o of observations) {
    const isForeign = o.requested_project !== undefined && o.requested_project !== o.asking_project;
    if (isForeign) {
      foreign++;
      if (o.items.length > 0) {
        foreignWithRows++;
        if (examples.length < max)
          examples.push({ kind: 'foreign_rows', endpoint: o.endpoint, asking_project: o.asking_project, requested_project: o.requested_project, status: o.status, rows: o.items.length });
      }
    }
    for (const item of o.items) {
      items++;
      const owner = item.project_id;
      if (typeof owner !== 'string') {
        unscoped++;
        if (examples.length < max) examples.push({ kind: 'unscoped_row', endpoint: o.endpoint, asking_project: o.asking_project, item });
      } else if (owner !== o.asking_project) {
        leaked++;
        leakedPairs.add(`${o.asking_project}->${owner}`);
        if (examples.length < max) examples.push({ kind: 'leaked_row', endpoint: o.endpoint, asking_project: o.asking_project, row_project: owner, item });
      }
    }
  }
  const failed = leaked + unscoped + foreignWithRows > 0;
  return {
    checker: 'api-isolation',
    status: failed ? 'fail' : 'pass',
    summary: failed
      ? `${leaked} rows of another project in ${observations.length} answers (${leakedPairs.size} project pairs), ${foreignWithRows} foreign requests answered with rows, ${unscoped} rows without a project`
      : `${items} rows in ${observations.length} answers all belonged to the asking project; ${foreign} foreign requests got no rows`,
    counts: {
      responses: observations.length,
      items,
      leaked_items: leaked,
      leaking_project_pairs: leakedPairs.size,
      unscoped_items: unscoped,
      foreign_requests: foreign,
      foreign_requests_with_rows: foreignWithRows,
    },
    examples,
  };
}

/** What the API listed for each project, by row key (`task_id` or `artifact_id`). */
export type ListedKeys = Readonly<Record<string, readonly string[]>>;

/** Options of the SQL isolation check. */
export interface SqlIsolationOptions {
  /** `tasks` or `artifacts`: where the listed keys live. */
  table: 'tasks' | 'artifacts';
  /** The API listing of each project, keyed by the asking project. */
  listed: ListedKeys;
  /**
   * The listings were exhaustive (every page fetched): then the number the API listed must
   * equal the number of rows SQL counts for the project (`rowsPerProject`).
   */
  complete?: boolean;
  /**
   * The keys each project wrote (seeded or created through the API), by writing project.
   * A written key SQL holds under another project and not under its writer is a misplaced
   * row: a cross-project write, which no listing can show (the listing and the table agree
   * on where the row went). Keys must differ between projects for this to tell rows apart.
   */
  written?: ListedKeys;
  maxExamples?: number;
}

/**
 * Pure core of `checkSqlIsolation`: compares what the API listed per project (and, with
 * `written`, what each project wrote) with the keys and row counts the database holds per
 * project. `dbKeys` must include the owners of any key no listed project holds.
 */
export function compareListingWithRows(
  options: SqlIsolationOptions,
  dbKeys: Readonly<Record<string, readonly string[]>>,
  sqlCounts: Readonly<Record<string, number>>,
): Verdict {
  const max = options.maxExamples ?? 10;
  const owners = new Map<string, string[]>();
  for (const [project, keys] of Object.entries(dbKeys)) for (const k of keys) owners.set(k, [...(owners.get(k) ?? []), project]);
  const examples: unknown[] = [];
  let listed = 0;
  let leaked = 0;
  let phantom = 0;
  let countMismatches = 0;
  let misplaced = 0;
  let writtenRows = 0;
  let rows = 0;
  const writtenBy = new Map(Object.entries(options.written ?? {}).map(([p, keys]) => [p, new Set(keys)]));
  for (const [writer, keys] of writtenBy) {
    const own = new Set(dbKeys[writer] ?? []);
    for (const k of keys) {
      writtenRows++;
      if (own.has(k)) continue;
      // A project that wrote the same key itself holds its own row, not the writer's.
      const holders = owners.get(k)?.filter((p) => p !== writer && !writtenBy.get(p)?.has(k));
      if (!holders?.length) continue; // stored nowhere: a lost write, the durability check's business
      misplaced++;
      if (examples.length < max) examples.push({ kind: 'misplaced_row', table: options.table, written_by: writer, key: k, stored_under: holders });
    }
  }
  for (const [project, keys] of Object.entries(options.listed)) {
    const own = new Set(dbKeys[project] ?? []);
    const distinct = new Set(keys);
    listed += distinct.size;
    for (const k of distinct) {
      if (own.has(k)) continue;
      const holders = owners.get(k);
      if (holders?.length) {
        leaked++;
        if (examples.length < max) examples.push({ kind: 'leaked_row', table: options.table, asking_project: project, key: k, owned_by: holders });
      } else {
        phantom++;
        if (examples.length < max) examples.push({ kind: 'phantom_row', table: options.table, asking_project: project, key: k });
      }
    }
    const inDb = sqlCounts[project] ?? 0;
    rows += inDb;
    if (options.complete && distinct.size !== inDb) {
      countMismatches++;
      if (examples.length < max) examples.push({ kind: 'count_mismatch', table: options.table, project, api_listed: distinct.size, sql_rows: inDb });
    }
  }
  const failed = leaked + phantom + countMismatches + misplaced > 0;
  return {
    checker: `sql-isolation:${options.table}`,
    status: failed ? 'fail' : 'pass',
    summary: failed
      ? `${leaked} listed ${options.table} rows belong to another project, ${phantom} are not in the database, ${countMismatches} projects' listings differ from their row counts` +
        (options.written ? `, ${misplaced} of ${writtenRows} written rows are stored under another project` : '')
      : `${listed} ${options.table} rows listed across ${Object.keys(options.listed).length} projects, each owned by the asking project in SQL` +
        (options.complete ? ' and matching its row count' : '') +
        (options.written ? `; none of ${writtenRows} written rows is stored under another project` : ''),
    counts: {
      projects: Object.keys(options.listed).length,
      listed_rows: listed,
      sql_rows: rows,
      leaked_rows: leaked,
      phantom_rows: phantom,
      count_mismatches: countMismatches,
      ...(options.written ? { written_rows: writtenRows, misplaced_rows: misplaced } : {}),
    },
    examples,
  };
}

/**
 * SQL evidence of isolation: reads the rows of each project straight from the table
 * (`rowsPerProject` from `@crucible/db`, plus the keys) and checks that every row the API
 * listed for a project is owned by that project in the database, with `complete` that the
 * API listed exactly as many rows as SQL counts, and with `written` that no row a project
 * wrote is stored under another project.
 *
 * @example
 * const v = await checkSqlIsolation(db, { table: 'tasks', listed: { alpha: ['T-1'], beta: ['T-9'] }, complete: true });
 */
export async function checkSqlIsolation(db: Kysely<Database>, options: SqlIsolationOptions): Promise<Verdict> {
  const projects = Object.keys(options.listed);
  const [keys, counts] = await Promise.all([keysPerProject(db, options.table, projects), rowsPerProject(db, projects)]);
  // A listed key no asked-about project owns, or a written key its writer does not hold, may
  // still be stored under a project nobody asked about: find its owner.
  const known = new Set(Object.values(keys).flat());
  const strays = new Set([...new Set(Object.values(options.listed).flat())].filter((k) => !known.has(k)));
  for (const [writer, written] of Object.entries(options.written ?? {})) {
    const own = new Set(keys[writer] ?? []);
    for (const k of written) if (!own.has(k) && !known.has(k)) strays.add(k);
  }
  const owners = await ownersOf(db, options.table, [...strays]);
  for (const { project_id, key } of owners) if (!projects.includes(project_id)) (keys[project_id] ??= []).push(key);
  return compareListingWithRows(options, keys, counts[options.table] ?? {});
}

async function ownersOf(db: Kysely<Database>, table: 'tasks' | 'artifacts', keys: readonly string[]): Promise<{ project_id: string; key: string }[]> {
  if (keys.length === 0) return [];
  return table === 'tasks'
    ? db.selectFrom('tasks').select(['project_id', 'task_id as key']).where('task_id', 'in', [...keys]).execute()
    : db.selectFrom('artifacts').select(['project_id', 'artifact_id as key']).where('artifact_id', 'in', [...keys]).execute();
}
