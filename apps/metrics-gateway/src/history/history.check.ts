import { waitForSchema } from '@crucible/service-kit';
import type { StoreConfig } from '../config.js';

/**
 * Start-up check of the history database: it answers within `timeoutMs` and holds the
 * gateway's tables. Throws a message naming what is wrong (the address, or the migration to
 * run), so a gateway that could store nothing does not start as if it could.
 */
export function checkHistoryDatabase(store: StoreConfig, timeoutMs: number): Promise<void> {
  return waitForSchema(store.databaseUrl, timeoutMs, { table: 'gateway_runs', missing: 'no run history tables (gateway_runs)' });
}
