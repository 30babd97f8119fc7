import { sql, type Compilable, type Kysely } from 'kysely';

/**
 * Runs `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT)` on a compiled Kysely query and returns the
 * plan text. The query really runs, so use it on reads (or inside a rolled-back transaction).
 */
export async function explainAnalyze(db: Kysely<any>, query: Compilable, options: { analyze?: boolean } = {}): Promise<string> {
  const compiled = query.compile();
  const analyze = options.analyze ?? true;
  const prefix = analyze ? 'EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) ' : 'EXPLAIN (FORMAT TEXT) ';
  const result = await db.executeQuery<{ 'QUERY PLAN': string }>({
    ...compiled,
    sql: prefix + compiled.sql,
    query: compiled.query,
  });
  return result.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** One row found in a project other than the one it was asked for. */
export interface CrossProjectRow {
  table: string;
  project_id: string;
  key: string;
}

/**
 * Isolation evidence straight from the tables: counts per project in each project-scoped
 * table, so a checker can compare what the API answered with what the database holds.
 */
export async function rowsPerProject(db: Kysely<any>, projectIds: readonly string[]): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const table of ['tasks', 'artifacts', 'id_registry', 'id_reservations', 'api_keys'] as const) {
    const { rows } = await sql<{ project_id: string; n: string }>`
      select project_id, count(*)::text as n from ${sql.table(table)}
      where project_id = any(${projectIds as string[]}) group by project_id`.execute(db);
    out[table] = Object.fromEntries(projectIds.map((p) => [p, Number(rows.find((r) => r.project_id === p)?.n ?? 0)]));
  }
  return out;
}
