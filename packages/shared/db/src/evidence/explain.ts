import type { Compilable, Kysely } from 'kysely';

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
