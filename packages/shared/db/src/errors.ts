/** What a database failure means for a caller. */
export type DbFailure = 'pool_exhausted' | 'database_unavailable';

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);
// SQLSTATE classes and codes that mean "the database cannot serve now", not "your query is wrong".
const unavailableSqlStates = new Set(['57P01', '57P02', '57P03', '53300', '57014', '53000', '53100', '53200']);

/**
 * Classifies an error thrown while talking to PostgreSQL: a pool that could not hand out a
 * connection in time, a database that is down or unreachable, or `undefined` for anything
 * else (a real bug or a constraint violation, which the caller handles).
 */
export function classifyDbError(err: unknown): DbFailure | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { code?: string };
  const message = e.message ?? '';
  if (message.includes('timeout exceeded when trying to connect')) return 'pool_exhausted';
  if (e.code && networkCodes.has(e.code)) return 'database_unavailable';
  if (e.code && (unavailableSqlStates.has(e.code) || e.code.startsWith('08'))) return 'database_unavailable';
  if (
    message.includes('Connection terminated') ||
    message.includes('Query read timeout') ||
    message.includes('connection timeout') ||
    message.includes('Client has encountered a connection error') ||
    message.includes('Client was closed') ||
    message.includes('the database system is')
  ) {
    return 'database_unavailable';
  }
  return undefined;
}

/** True for a PostgreSQL unique violation (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === '23505';
}

/** True for a PostgreSQL foreign key violation (SQLSTATE 23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: string }).code === '23503';
}
