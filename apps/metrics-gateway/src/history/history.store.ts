import type { GatewayPublish } from '@crucible/contracts';
import { classifyDbError, type Database } from '@crucible/db';
import { DatabaseWatch } from '@crucible/service-kit';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { StoreConfig } from '../config.js';
import { startRetention } from './history.retention.js';
import { outcomeOf, pointRow, runRow, scenarioRows, type PointRow, type RunRow, type ScenarioRow } from './history.rows.js';

/** The end of a run: its outcome on the run row and one row per scenario. */
interface RunEnd {
  projectId: string;
  runId: string;
  outcome: string;
  endedAt: string;
  durationS: number;
  scenarios: ScenarioRow[];
}

/** What the store did, for `/health` and `/metrics`. */
export interface StoreStats {
  /** Rows accepted and not yet written (a batch being written included). */
  buffered: number;
  bufferRows: number;
  /** Rows written to PostgreSQL. */
  written: number;
  /** Publishes refused because the buffer was full (the publisher was told). */
  refused: number;
  /** Rows the database rejected (not an outage): logged as errors, never retried. */
  failed: number;
  /** Flushes that found the database unavailable (their rows stayed buffered). */
  unavailable: number;
}

/** Runs whose row is known written, so a point does not re-send it; forgotten past this many. */
const maxKnownRuns = 100_000;
/** Points per INSERT statement: 14 parameters each, far under PostgreSQL's 65,535. */
const pointsPerStatement = 2000;
/** A point as buffered: its run's start (the partition key) is the stored run's, found when it is written. */
type PendingPoint = Omit<PointRow, 'run_started_at'>;
const key = (projectId: string, runId: string) => `${projectId}\u0000${runId}`;

/**
 * The gateway's run history writer: rows of accepted publishes wait in a bounded buffer and
 * are written in one transaction of multi-row INSERTs every `flushMs`, or at once past
 * `batchRows`. While the database is unavailable the rows stay buffered and the flush is
 * retried; once `bufferRows` are held, {@link accept} refuses, and the hub tells the
 * publisher (`database_unavailable`), so nothing accepted is dropped in silence. `close()`
 * writes what is buffered before the process exits.
 *
 * `event` messages (the load suite's synthetic ingest) are not stored: they are not a run's
 * history, and writing 12,000 of them a second would cost the fan-out its CPU.
 */
export class HistoryStore {
  readonly #db: Kysely<Database>;
  readonly #config: StoreConfig;
  readonly #logger: Logger;
  #runs = new Map<string, RunRow>();
  #points: PendingPoint[] = [];
  #ends = new Map<string, RunEnd>();
  #buffered = 0;
  /** Rows of the batch being written: still held, so they count against the bound. */
  #inFlight = 0;
  /** Runs whose row is written → their stored start, the partition key of their points. */
  readonly #known = new Map<string, Date>();
  readonly #stats = { written: 0, refused: 0, failed: 0, unavailable: 0 };
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #failures = 0;
  #closed = false;
  /** The outage's detection and recovery as log events (db_unreachable / db_recovered). */
  readonly #watch: DatabaseWatch;
  readonly #stopRetention: () => void;

  constructor(db: Kysely<Database>, config: StoreConfig, logger: Logger) {
    this.#db = db;
    this.#config = config;
    this.#logger = logger;
    this.#watch = new DatabaseWatch({ logger, probe: () => sql`select 1`.execute(db) });
    this.#stopRetention = startRetention(db, { aheadMonths: config.partitionsAhead, retainMonths: config.retainMonths, everyMs: config.maintainMs }, logger);
  }

  /** Counts so far (a copy). */
  stats(): StoreStats {
    return { buffered: this.#buffered + this.#inFlight, bufferRows: this.#config.bufferRows, ...this.#stats };
  }

  /**
   * Takes the rows of one publish into the buffer, filed under `projectId`. Returns false,
   * and takes nothing, when they do not fit (the buffer is full: the database is behind or down).
   */
  accept(projectId: string, msg: GatewayPublish): boolean {
    if (msg.type === 'event') return true;
    const k = key(projectId, msg.run_id);
    const needsRun = msg.type === 'run_start' || (!this.#known.has(k) && !this.#runs.has(k));
    const rows = (needsRun ? 1 : 0) + (msg.type === 'snapshot' ? 1 : msg.type === 'run_end' ? 1 + msg.summary.scenarios.length : 0);
    if (this.#closed || this.#buffered + this.#inFlight + rows > this.#config.bufferRows) {
      this.#stats.refused++;
      return false;
    }
    if (needsRun) this.#addRun(k, runRow(projectId, msg.run_id, msg.type === 'run_start' ? msg.run : undefined));
    if (msg.type === 'snapshot') this.#points.push(pointRow(projectId, msg.snapshot));
    if (msg.type === 'run_end') {
      const s = msg.summary;
      const scenarios = scenarioRows(projectId, s);
      const before = this.#ends.get(k);
      if (before) this.#buffered -= 1 + before.scenarios.length;
      this.#ends.set(k, { projectId, runId: s.run_id, outcome: outcomeOf(s), endedAt: s.finished_at, durationS: s.duration_s, scenarios });
      this.#buffered += 1 + scenarios.length;
    }
    if (msg.type === 'snapshot') this.#buffered++;
    this.#schedule();
    return true;
  }

  #addRun(k: string, row: RunRow): void {
    const pending = this.#runs.get(k);
    if (!pending) this.#buffered++;
    // A run_start after an unannounced first point: what it says wins over the blanks.
    this.#runs.set(k, pending ? { ...pending, ...Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)) } : row);
  }

  #schedule(): void {
    if (this.#writing) return;
    if (this.#buffered >= this.#config.batchRows) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#writing = this.#flushOnce();
      return;
    }
    if (this.#timer) return;
    // Backs off while the database is unavailable, up to 2 s between attempts.
    const delay = Math.min(this.#config.flushMs * 2 ** this.#failures, Math.max(this.#config.flushMs, 2000));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#writing = this.#flushOnce();
    }, delay);
  }

  async #flushOnce(): Promise<void> {
    try {
      await this.#write();
    } finally {
      this.#writing = undefined;
      if (this.#buffered > 0 && !this.#closed) this.#schedule();
    }
  }

  /** Writes what is buffered in one transaction; an outage puts it back. */
  async #write(): Promise<void> {
    if (this.#buffered === 0) return;
    const runs = this.#runs;
    const points = this.#points;
    const ends = this.#ends;
    const rows = this.#buffered;
    this.#runs = new Map();
    this.#points = [];
    this.#ends = new Map();
    this.#buffered = 0;
    this.#inFlight = rows;
    try {
      const starts = new Map<string, Date>();
      await this.#db.transaction().execute(async (tx) => {
        if (runs.size > 0) {
          const stored = await tx
            .insertInto('gateway_runs')
            .values([...runs.values()])
            .onConflict((oc) =>
              oc.columns(['project_id', 'run_id']).doUpdateSet({
                commit: sql`coalesce(excluded.commit, gateway_runs.commit)`,
                branch: sql`coalesce(excluded.branch, gateway_runs.branch)`,
                machine: sql`coalesce(excluded.machine, gateway_runs.machine)`,
                profile: sql`coalesce(excluded.profile, gateway_runs.profile)`,
                // The stored start stays: it is the partition key of the points already written,
                // and a point is found by its run's start (a later, earlier run_start loses).
              }),
            )
            .returning(['project_id', 'run_id', 'started_at'])
            .execute();
          for (const r of stored) starts.set(key(r.project_id, r.run_id), r.started_at);
        }
        const rows = await this.#withRunStarts(tx, points, starts);
        for (let i = 0; i < rows.length; i += pointsPerStatement) {
          // A replayed point (a publisher resending after a reconnect) is already there.
          await tx.insertInto('gateway_points').values(rows.slice(i, i + pointsPerStatement)).onConflict((oc) => oc.doNothing()).execute();
        }
        for (const end of ends.values()) {
          await tx
            .updateTable('gateway_runs')
            .set({ outcome: end.outcome, ended_at: end.endedAt, duration_s: end.durationS })
            .where('project_id', '=', end.projectId)
            .where('run_id', '=', end.runId)
            .execute();
          if (end.scenarios.length === 0) continue;
          await tx
            .insertInto('gateway_run_scenarios')
            .values(end.scenarios)
            .onConflict((oc) =>
              oc.columns(['project_id', 'run_id', 'scenario']).doUpdateSet((eb) => ({
                requests: eb.ref('excluded.requests'),
                errors: eb.ref('excluded.errors'),
                error_rate: eb.ref('excluded.error_rate'),
                rps: eb.ref('excluded.rps'),
                p50_ms: eb.ref('excluded.p50_ms'),
                p95_ms: eb.ref('excluded.p95_ms'),
                p99_ms: eb.ref('excluded.p99_ms'),
                passed: eb.ref('excluded.passed'),
                status: eb.ref('excluded.status'),
                thresholds: eb.ref('excluded.thresholds'),
              })),
            )
            .execute();
        }
      });
      this.#failures = 0;
      this.#watch.succeeded();
      this.#stats.written += rows;
      if (this.#known.size > maxKnownRuns) this.#known.clear();
      for (const [k, start] of starts) this.#known.set(k, start);
    } catch (err) {
      if (classifyDbError(err) === undefined) {
        // Not an outage: the database refused these rows and will refuse them again.
        this.#stats.failed += rows;
        this.#logger.error({ err, rows }, 'the database refused a history batch; its rows are not stored');
        return;
      }
      this.#failures++;
      this.#stats.unavailable++;
      this.#watch.failed(err);
      this.#restore(runs, points, ends, rows);
      this.#logger.warn({ err: (err as Error).message, buffered: this.#buffered, bound: this.#config.bufferRows }, 'history database unavailable: rows kept in the buffer');
    } finally {
      this.#inFlight = 0;
    }
  }

  /**
   * The points with their run's stored start: from this batch's upsert, from the runs known
   * written, or (forgotten past {@link maxKnownRuns}) read back in the same transaction.
   */
  async #withRunStarts(tx: Kysely<Database>, points: PendingPoint[], starts: Map<string, Date>): Promise<PointRow[]> {
    const missing = new Map<string, { projectId: string; runId: string }>();
    for (const p of points) {
      const k = key(p.project_id, p.run_id);
      const known = this.#known.get(k);
      if (starts.has(k)) continue;
      if (known) starts.set(k, known);
      else missing.set(k, { projectId: p.project_id, runId: p.run_id });
    }
    if (missing.size > 0) {
      const found = await tx
        .selectFrom('gateway_runs')
        .select(['project_id', 'run_id', 'started_at'])
        .where((eb) => eb.or([...missing.values()].map((m) => eb.and([eb('project_id', '=', m.projectId), eb('run_id', '=', m.runId)]))))
        .execute();
      for (const r of found) starts.set(key(r.project_id, r.run_id), r.started_at);
    }
    // Every point's run was upserted in this batch or an earlier one, so a start is always found.
    return points.map((p) => ({ ...p, run_started_at: starts.get(key(p.project_id, p.run_id)) ?? new Date() }));
  }

  /** Puts a batch that could not be written back in front of what arrived since. */
  #restore(runs: Map<string, RunRow>, points: PendingPoint[], ends: Map<string, RunEnd>, rows: number): void {
    for (const [k, row] of this.#runs) {
      if (runs.has(k)) rows--;
      runs.set(k, { ...runs.get(k), ...row });
    }
    for (const [k, end] of this.#ends) {
      const older = ends.get(k);
      if (older) rows -= 1 + older.scenarios.length;
      ends.set(k, end);
    }
    this.#runs = runs;
    this.#points = points.concat(this.#points);
    this.#ends = ends;
    this.#buffered += rows;
  }

  /**
   * Stops taking rows and writes what is buffered, retrying an outage until `deadlineMs`;
   * rows still unwritten then are logged as lost, with their count.
   */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    this.#stopRetention();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + deadlineMs;
    await this.#writing;
    while (this.#buffered > 0 && Date.now() < deadline) {
      await this.#write();
      if (this.#buffered > 0) await new Promise((r) => setTimeout(r, 200));
    }
    this.#watch.close();
    if (this.#buffered > 0) this.#logger.error({ rows: this.#buffered }, 'stopping with history rows the database never took: they are lost');
    else this.#logger.info({ written: this.#stats.written }, 'history flushed');
  }
}
