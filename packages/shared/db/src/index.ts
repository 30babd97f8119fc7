/**
 * @crucible/db — the Kysely `Database` interface, migrations, pool factory, the ID
 * allocation statement (`bumpSequence`), the run history reads (`listRunsQuery`, `trendQuery`, …), EXPLAIN capture and every SQL evidence read the
 * checkers compare API answers with (`idEvidenceFromDb`, `rowsPerProject`, …).
 *
 * @example
 * const pool = createPool({ connectionString: url, max: 10, acquireTimeoutMs: 1000 });
 * const db = createDb(pool);
 * await migrateToLatest(db);
 */
export type * from './database.js';
export { compileOnlyDb } from './compile-only.js';
export { createPool, createDb, poolStats, resolvePoolOptions, type PoolOptions, type ResolvedPoolOptions } from './pool.js';
export { migrateToLatest, migrateDown, migrateToEmpty, migrationNames } from './migrate.js';
export { classifyDbError, isUniqueViolation, isForeignKeyViolation, type DbFailure } from './errors.js';
export { explainAnalyze } from './evidence/explain.js';
export {
  rowsPerProject,
  keysPerProject,
  idEvidenceFromDb,
  claimedRowsFromDb,
  taskRowsFromDb,
  type CrossProjectRow,
  type RegistryRowEvidence,
  type ReservationRowEvidence,
  type ClaimRowEvidence,
  type TaskRowEvidence,
} from './evidence/rows.js';
export { storedRefsFromDb, type StoredRefEvidence } from './evidence/refs.js';
export { bumpSequence, type SequenceScope } from './sequences.js';
export { hashProjects, routesToOneShard, shardingPlan, simulateShards, type RoutingCheck, type ShardSimulation } from './sharding.js';
export {
  listRunsQuery,
  runQuery,
  runScenariosQuery,
  runPointsQuery,
  trendQuery,
  errorBreakdownQuery,
  type RunFilter,
  type ErrorBreakdownFilter,
  type HistoryScope,
  type HistoryDefects,
} from './history.queries.js';
