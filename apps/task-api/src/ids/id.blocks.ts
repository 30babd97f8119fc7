import { ServiceError } from '@crucible/service-kit';
import type { BreakerState } from './circuit-breaker.js';
import { dependencyUnavailable, type IdClient, type IssuedRange } from './id.client.js';

/** The ID-service sequence that generated task ids (`TASK-001`) come from. */
export const taskIdType = 'TASK';

/** How many task ids are taken at once, and when the next block is fetched. */
export interface IdBlockOptions {
  /** Ids per reservation (`POST /ids/reserve {type: 'TASK', count}`) at a low create rate. */
  readonly blockSize: number;
  /** Fetch the next block when fewer than this many are left, so a create rarely waits. */
  readonly lowWater: number;
  /**
   * Largest reservation (default: `blockSize`, a fixed block). A project that takes more ids
   * during one reservation's round trip than a block holds gets blocks of twice what it took,
   * up to this, and fetches them that much earlier: one refill in flight per project
   * otherwise caps its creates at `blockSize` per round trip.
   */
  readonly maxBlockSize?: number;
}

interface ProjectBlocks {
  /** Issued, unused ranges, oldest first: `next` is the next number of the first. */
  readonly ranges: { next: number; last: number }[];
  refill: Promise<void> | undefined;
  /** Numbers asked for since the current (or last) refill started. */
  asked: number;
  /** Numbers asked for during the last refill's round trip: the project's demand per round trip. */
  perRoundTrip: number;
}

/**
 * Task numbers per project, taken from the ID service in blocks and refilled ahead of need,
 * so a create pays no round trip while its project's block lasts. A number is handed out
 * once (this process is its only holder: the ID service issued the block to no one else);
 * numbers of a block not used before the process stops are skipped, never reissued.
 *
 * @example
 * const blocks = new TaskIdBlocks(client, { blockSize: 32, lowWater: 8 });
 * const n = await blocks.take('alpha', req.headers.authorization); // 1, then 2 … with one call per 32
 */
export class TaskIdBlocks {
  readonly #client: IdClient;
  readonly #options: IdBlockOptions;
  readonly #projects = new Map<string, ProjectBlocks>();

  constructor(client: IdClient, options: IdBlockOptions) {
    this.#client = client;
    this.#options = options;
  }

  /**
   * The next task number of `projectId`. `authorization` is the caller's `Bearer` header,
   * which the ID service checks belongs to that project. Throws 503 `dependency_unavailable`
   * when the block is empty and the ID service cannot give another.
   */
  async take(projectId: string, authorization: string): Promise<number> {
    const p = this.#of(projectId);
    p.asked++;
    // Bounded: many waiters on one refill can empty it again before this one's turn.
    for (let round = 0; round < 8; round++) {
      const n = takeFrom(p);
      if (n !== undefined) {
        // What is left must last the next round trip: at least what the last one took.
        if (remaining(p) < Math.max(this.#options.lowWater, p.perRoundTrip)) void this.#refill(p, authorization).catch(() => {});
        return n;
      }
      // Empty while the breaker is not closed: the refill (a probe, when one is due) goes on in
      // the background and this create is refused at once instead of waiting on it.
      if (this.#client.state !== 'closed') {
        void this.#refill(p, authorization).catch(() => {});
        throw dependencyUnavailable('circuit open', this.#client.breaker.retryAfterMs(), this.#client.state);
      }
      try {
        await this.#refill(p, authorization);
      } catch (err) {
        // Whoever started the refill, this create waited on its calls.
        if (err instanceof ServiceError && err.code === 'dependency_unavailable') throw dependencyUnavailable('no answer', this.#client.breaker.retryAfterMs(), 'closed');
        throw err;
      }
    }
    return this.#take(p, authorization);
  }

  /** The breaker's state towards the ID service. */
  get state(): BreakerState {
    return this.#client.state;
  }

  /** Puts back a number `take` gave that no task holds (its insert was refused), first in line. */
  giveBack(projectId: string, n: number): void {
    this.#of(projectId).ranges.unshift({ next: n, last: n });
  }

  // The last resort of a crowd of waiters: a block fetched for this caller alone.
  async #take(p: ProjectBlocks, authorization: string): Promise<number> {
    add(p, await this.#client.reserve(authorization, taskIdType, this.#sizeFor(p)));
    return takeFrom(p) as number;
  }

  /** The next reservation's size: twice the last round trip's demand, within [blockSize, maxBlockSize]. */
  #sizeFor(p: ProjectBlocks): number {
    const { blockSize, maxBlockSize = blockSize } = this.#options;
    return Math.max(blockSize, Math.min(maxBlockSize, 2 * p.perRoundTrip));
  }

  /** One refill at a time per project; every waiter shares it (and its failure). */
  #refill(p: ProjectBlocks, authorization: string): Promise<void> {
    if (p.refill) return p.refill;
    const count = this.#sizeFor(p);
    p.asked = 0;
    p.refill = this.#client
      .reserve(authorization, taskIdType, count)
      .then((range) => add(p, range))
      .finally(() => {
        p.perRoundTrip = p.asked;
        p.refill = undefined;
      });
    return p.refill;
  }

  #of(projectId: string): ProjectBlocks {
    let p = this.#projects.get(projectId);
    if (!p) {
      p = { ranges: [], refill: undefined, asked: 0, perRoundTrip: 0 };
      this.#projects.set(projectId, p);
    }
    return p;
  }
}

function takeFrom(p: ProjectBlocks): number | undefined {
  for (let r = p.ranges[0]; r !== undefined; r = p.ranges[0]) {
    if (r.next <= r.last) return r.next++;
    p.ranges.shift();
  }
  return undefined;
}

function remaining(p: ProjectBlocks): number {
  return p.ranges.reduce((sum, r) => sum + (r.last - r.next + 1), 0);
}

function add(p: ProjectBlocks, range: IssuedRange): void {
  p.ranges.push({ next: range.first, last: range.last });
}
