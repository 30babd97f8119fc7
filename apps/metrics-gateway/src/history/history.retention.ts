import type { Database } from '@crucible/db';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';

/** What one upkeep did: the monthly partitions of `gateway_points` it created and dropped. */
export interface PartitionUpkeep {
  created: string[];
  dropped: string[];
}

/**
 * Keeps the points' monthly partitions: creates this month's and `aheadMonths` more, drops
 * the months that ended more than `retainMonths` ago (migration 20261202T0200's
 * `gateway_points_maintain`; the runs and their summaries stay). The same call is the
 * retention command (`select * from gateway_points_maintain(3, 12)` by hand).
 */
export async function maintainPartitions(db: Kysely<Database>, aheadMonths: number, retainMonths: number): Promise<PartitionUpkeep> {
  const { rows } = await sql<{ action: string; partition: string }>`select action, partition from gateway_points_maintain(${aheadMonths}::int, ${retainMonths}::int)`.execute(db);
  return { created: rows.filter((r) => r.action === 'created').map((r) => r.partition), dropped: rows.filter((r) => r.action === 'dropped').map((r) => r.partition) };
}

/**
 * The retention job: {@link maintainPartitions} soon after start-up and every `everyMs`. A
 * failed upkeep is logged and retried at the next tick (a default partition takes a month
 * not created yet, so inserts never wait on it). Returns the stop.
 */
export function startRetention(db: Kysely<Database>, o: { aheadMonths: number; retainMonths: number; everyMs: number }, logger: Logger): () => void {
  const run = () => {
    maintainPartitions(db, o.aheadMonths, o.retainMonths).then(
      (u) => {
        if (u.created.length > 0 || u.dropped.length > 0) logger.info({ ...u, retain_months: o.retainMonths }, 'history partitions kept up');
      },
      (err: unknown) => logger.warn({ err: (err as Error).message }, 'history partition upkeep failed; retried at the next tick'),
    );
  };
  const first = setTimeout(run, 1000);
  const every = setInterval(run, o.everyMs);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
