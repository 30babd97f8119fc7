/**
 * @crucible/db — the Kysely `Database` interface, migrations, pool factory, the ID
 * allocation statement (`bumpSequence`) and the SQL evidence helpers the checkers use.
 *
 * @example
 * const pool = createPool({ connectionString: url, max: 10, acquireTimeoutMs: 1000 });
 * const db = createDb(pool);
 * await migrateToLatest(db);
 */
export type * from './database.js';
export { createPool, createDb, poolStats, resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './pool.js';
export { migrateToLatest, migrateDown, migrateToEmpty, migrationNames } from './migrate.js';
export { classifyDbError, isUniqueViolation, isForeignKeyViolation, type DbFailure } from './errors.js';
export { explainAnalyze, rowsPerProject, type CrossProjectRow } from './evidence.js';
export { bumpSequence, type SequenceScope } from './sequences.js';
