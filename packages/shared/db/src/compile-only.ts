import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { Database } from './database.js';

/**
 * A Kysely with PostgreSQL's dialect and no connection: it only compiles. Instruments use it
 * to render exactly the statement an app's query builder sends (pgbench scripts, the
 * benchmarks' reference handlers) without a database.
 *
 * @example
 * const { sql, parameters } = bumpSequence(compileOnlyDb(), { projectId: 'alpha' }, 'US', 1).compile();
 */
export function compileOnlyDb(): Kysely<Database> {
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}
