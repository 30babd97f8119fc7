import type { Logger } from 'pino';
import { failpoint } from './failpoints.js';

/** How a {@link DatabaseWatch} learns that the database answers again, and how often it asks. */
export interface DatabaseWatchOptions {
  readonly logger: Logger;
  /**
   * One round trip to the database (e.g. `select 1` on a pool of its own). While the database
   * is down the watch runs it every `probeEveryMs` and logs the recovery on the first success;
   * without it, only {@link DatabaseWatch.succeeded} ends an outage.
   */
  readonly probe?: () => Promise<unknown>;
  /** Default 200 ms: the recovery is logged within that (plus one round trip) of the return. */
  readonly probeEveryMs?: number;
}

/**
 * The service's view of its database as two log events per outage, the evidence the
 * resilience suites read: `db_unreachable` when the first real database error is seen (a
 * request refused, a health check failed, a batch not written), with its time and the error,
 * and `db_recovered` when a round trip succeeds again, with its time and `outage_ms`. Both at
 * `warn`, so a log kept at `warn` holds both halves of the outage. Once per outage, however many
 * requests fail inside it.
 *
 * @example
 * const watch = new DatabaseWatch({ logger, probe: () => healthPool.query('select 1') });
 * watch.failed(err); // from the error edge, on `database_unavailable`
 */
export class DatabaseWatch {
  readonly #options: DatabaseWatchOptions;
  #downSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: DatabaseWatchOptions) {
    this.#options = options;
  }

  /** When the current outage was detected (epoch ms), or undefined while the database answers. */
  get downSince(): number | undefined {
    return this.#downSince;
  }

  /** A real database error was seen (not a refusal of the service's own making). */
  failed(error: unknown): void {
    if (this.#downSince !== undefined || this.#closed) return;
    this.#downSince = Date.now();
    const message = error instanceof Error ? error.message : String(error);
    this.#options.logger.warn({ event: 'db_unreachable', at: new Date(this.#downSince).toISOString(), error: message }, 'database unreachable');
    this.#schedule();
  }

  /** A database round trip succeeded: ends the outage, if one is on. */
  succeeded(): void {
    if (this.#downSince === undefined) return;
    const at = Date.now();
    const outageMs = at - this.#downSince;
    this.#downSince = undefined;
    clearTimeout(this.#timer);
    // The planted silence (failpoint `db.no-recovery-log`): the recovery happens, its record does not.
    if (failpoint('db.no-recovery-log')) return;
    this.#options.logger.warn({ event: 'db_recovered', at: new Date(at).toISOString(), outage_ms: outageMs }, 'database reachable again');
  }

  /** Stops probing (the service is closing); an outage still on is left unlogged. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    const probe = this.#options.probe;
    if (!probe || this.#closed) return;
    this.#timer = setTimeout(() => {
      probe().then(
        () => this.succeeded(),
        () => {
          if (this.#downSince !== undefined) this.#schedule();
        },
      );
    }, this.#options.probeEveryMs ?? 200);
    // A probe never keeps the process alive on its own.
    this.#timer.unref();
  }
}
