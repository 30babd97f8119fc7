/** Where a {@link CircuitBreaker} stands. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What a breaker reports when it opens or closes (for the `circuit_open` / `circuit_closed` log events). */
export interface BreakerChange {
  readonly state: 'open' | 'closed';
  /** Epoch ms of the change. */
  readonly at: number;
  /** Consecutive failures that opened it (on `open`). */
  readonly failures: number;
  /** How long it was not closed, from the first opening to this closing (on `closed`). */
  readonly outageMs?: number;
}

/** How a {@link CircuitBreaker} decides. */
export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker. */
  readonly failureThreshold: number;
  /** How long it stays open before one probe is let through (half-open). */
  readonly openMs: number;
  readonly now?: () => number;
  readonly onChange?: (change: BreakerChange) => void;
}

/**
 * A circuit breaker for calls to one dependency: closed, it lets every call through and
 * counts consecutive failures; at `failureThreshold` it opens and refuses every call at once
 * (a refusal costs nothing, so callers answer fast instead of waiting on a dead peer); after
 * `openMs` it half-opens and admits ONE probe, whose success closes it and whose failure
 * opens it again for another `openMs`.
 *
 * @example
 * const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 1000 });
 * if (!breaker.admit()) throw unavailable(breaker.retryAfterMs());
 * try { const r = await call(); breaker.success(); return r; } catch (e) { breaker.failure(); throw e; }
 */
export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #outageSince = 0;
  #probeOut = false;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The state now (an open breaker whose time is up reads `half-open`). */
  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#options.openMs) return 'half-open';
    return this.#state;
  }

  /**
   * Whether a call may go out now. Closed: yes. Open: no, until `openMs` passed; then the
   * first caller becomes the probe and every other caller is refused until it reports.
   */
  admit(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half-open' && !this.#probeOut) {
      this.#state = 'half-open';
      this.#probeOut = true;
      return true;
    }
    return false;
  }

  /** How long until a probe will be admitted (0 when closed or a probe may go now). */
  retryAfterMs(): number {
    if (this.#state !== 'open') return this.#probeOut ? this.#options.openMs : 0;
    return Math.max(0, this.#options.openMs - (this.#now() - this.#openedAt));
  }

  /** The admitted call succeeded: the breaker closes (and reports it if it was not closed). */
  success(): void {
    const wasClosed = this.#state === 'closed';
    this.#failures = 0;
    this.#probeOut = false;
    this.#state = 'closed';
    if (!wasClosed) this.#options.onChange?.({ state: 'closed', at: this.#now(), failures: 0, outageMs: this.#now() - this.#outageSince });
  }

  /** The admitted call failed: a failed probe, or the threshold reached, opens the breaker. */
  failure(): void {
    this.#failures++;
    const probeFailed = this.#state === 'half-open';
    this.#probeOut = false;
    if (!probeFailed && (this.#state === 'open' || this.#failures < this.#options.failureThreshold)) return;
    if (this.#state === 'closed') {
      this.#outageSince = this.#now();
      this.#options.onChange?.({ state: 'open', at: this.#outageSince, failures: this.#failures });
    }
    this.#state = 'open';
    this.#openedAt = this.#now();
  }
}
