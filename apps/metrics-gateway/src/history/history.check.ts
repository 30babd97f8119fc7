import pg from 'pg';
import type { StoreConfig } from '../config.js';

/**
 * Start-up check of the history database: it answers within `timeoutMs` and holds the
 * gateway's tables. Throws a message naming what is wrong (the address, or the migration to
 * run), so a gateway that could store nothing does not start as if it could.
 */
export async function checkHistoryDatabase(store: StoreConfig, timeoutMs: number): Promise<void> {
  const target = new URL(store.databaseUrl);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const client = new pg.Client({ connectionString: store.databaseUrl, connectionTimeoutMillis: 2000, query_timeout: 2000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ ok: boolean }>(`select to_regclass('public.gateway_runs') is not null as ok`);
      if (!rows[0]?.ok) {
        throw new Error(`database ${target.pathname.slice(1)} has no run history tables (gateway_runs): run the migrations (npm run migrate -w @crucible/db)`);
      }
      return;
    } catch (err) {
      if ((err as Error).message.includes('no run history tables')) throw err;
      last = err;
    } finally {
      await client.end().catch(() => {});
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const reason = last instanceof Error ? last.message || (last as NodeJS.ErrnoException).code : String(last);
  throw new Error(`database unreachable at DATABASE_URL (${target.hostname}:${target.port || 5432}): ${reason}`);
}
