/**
 * Group commit, after PostgreSQL's own WAL flush and Kafka's producer batching: calls that
 * arrive for one lane while the lane's previous batch is in flight wait, and go together as
 * the next batch. The first call of an idle lane goes at once (no timer, so an idle service
 * adds no latency); under load a batch is whatever queued during one round trip, so the
 * batch size follows the load by itself. One batch per lane is in flight at a time, so
 * batches of a lane run in arrival order.
 *
 * @example
 * const c = new Coalescer<string, number, number>((lane, items) => Promise.resolve(items.map((n) => n * 2)));
 * await Promise.all([c.submit('a', 1), c.submit('a', 2)]); // [2, 4]: 1 alone, then 2 in the next batch
 */
export class Coalescer<L, I, O> {
  readonly #run: (lane: L, items: readonly I[]) => Promise<readonly (O | Error)[]>;
  readonly #maxBatch: number;
  readonly #lanes = new Map<string, Lane<L, I, O>>();
  readonly #keyOf: (lane: L) => string;
  #batches = 0;
  #items = 0;

  /**
   * @param run answers one batch: an outcome per item, in item order (an `Error` fails that
   *   item alone); a rejection fails every item of the batch.
   * @param options `maxBatch` bounds one batch (default 500); `keyOf` names a lane (default `String`).
   */
  constructor(run: (lane: L, items: readonly I[]) => Promise<readonly (O | Error)[]>, options: { maxBatch?: number; keyOf?: (lane: L) => string } = {}) {
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#keyOf = options.keyOf ?? String;
  }

  /** Queues `item` on `lane`; resolves with its outcome once its batch has run. */
  submit(lane: L, item: I): Promise<O> {
    const key = this.#keyOf(lane);
    let l = this.#lanes.get(key);
    if (!l) {
      l = { lane, waiting: [], busy: false };
      this.#lanes.set(key, l);
    }
    const waiting = l.waiting;
    const promise = new Promise<O>((resolve, reject) => waiting.push({ item, resolve, reject }));
    if (!l.busy) void this.#drain(key, l);
    return promise;
  }

  /** Batches run and items answered so far (their ratio is the mean batch size). */
  get stats(): { batches: number; items: number } {
    return { batches: this.#batches, items: this.#items };
  }

  async #drain(key: string, l: Lane<L, I, O>): Promise<void> {
    l.busy = true;
    while (l.waiting.length > 0) {
      const batch = l.waiting.splice(0, this.#maxBatch);
      this.#batches++;
      this.#items += batch.length;
      try {
        const outcomes = await this.#run(
          l.lane,
          batch.map((w) => w.item),
        );
        if (outcomes.length !== batch.length) throw new Error(`a batch of ${batch.length} answered ${outcomes.length} outcomes`);
        batch.forEach((w, i) => {
          const o = outcomes[i] as O | Error;
          if (o instanceof Error) w.reject(o);
          else w.resolve(o);
        });
      } catch (err) {
        // Nothing of a failed batch was handed out: every caller in it fails.
        for (const w of batch) w.reject(err);
      }
    }
    l.busy = false;
    this.#lanes.delete(key);
  }
}

interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (err: unknown) => void;
}

interface Lane<L, I, O> {
  readonly lane: L;
  readonly waiting: Waiting<I, O>[];
  busy: boolean;
}
