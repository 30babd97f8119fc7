/**
 * How a call ended, as Jepsen classifies operations: `ok` (the effect happened and the
 * client knows its result), `failed` (the effect certainly did not happen) or
 * `indeterminate` (the client cannot tell: a timeout, a reset connection, a 500 after the
 * statement may have committed). An indeterminate call is neither a success nor a failure
 * until it is reconciled against the database.
 */
export type OpOutcome = 'ok' | 'failed' | 'indeterminate';

/** What a client saw of one call: an HTTP status and error code, or a transport error. */
export interface CallResult {
  /** HTTP status, absent when no answer came (timeout, reset, refused). */
  status?: number | undefined;
  /** `error.code` of the JSON envelope, when there was one. */
  code?: string | undefined;
}

/**
 * Error codes that are answered before the service touches the database, so the effect
 * certainly did not happen even though the status is 5xx.
 */
const refusedBeforeWork = new Set(['pool_exhausted', 'shutting_down']);

/**
 * Classifies a call: 2xx → ok; 4xx → failed (rejected, nothing written); 503
 * `pool_exhausted`/`shutting_down` → failed (refused before any statement ran); any other
 * 5xx or no answer at all → indeterminate.
 *
 * @example
 * classifyOutcome({ status: 200 });                          // 'ok'
 * classifyOutcome({ status: 503, code: 'pool_exhausted' });  // 'failed'
 * classifyOutcome({});                                        // 'indeterminate' (timed out)
 */
export function classifyOutcome(result: CallResult): OpOutcome {
  const { status, code } = result;
  if (status === undefined) return 'indeterminate';
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 400 && status < 500) return 'failed';
  if (code !== undefined && refusedBeforeWork.has(code)) return 'failed';
  return 'indeterminate';
}
