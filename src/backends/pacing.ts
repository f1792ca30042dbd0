/**
 * Write pacing that finds the real limit (docs/apply.md, "Retries, pacing and lost responses").
 *
 * A token bucket whose rate follows AIMD (additive increase, multiplicative decrease):
 *
 * - It starts at the configured rate (`writes_per_minute`), with a burst of a tenth of a
 *   minute's worth, so short applies start at once.
 * - A rate-limit answer (429) to a write cuts the rate by a quarter, down to a floor of a few writes a
 *   minute, empties the bucket, and, when the answer said when to come back (`retry-after`),
 *   holds the bucket closed until then: no write of this process goes out before it.
 *   The 429s of writes sent before that cut (concurrent writes that met the same limit) hold
 *   the bucket but do not cut again: one limit met is one cut.
 * - After a run of successful writes (a tenth of a minute's worth at the current rate, at least
 *   one) the rate rises by a tenth of the configured rate, never above it.
 *
 * Pure but for the injected clock and sleep: nothing here reads the time or waits on its own,
 * so tests drive it with a fake clock and plain data.
 */

/** What pacing did during a run (apply's summary prints it when there were 429s). */
export interface PacingStats {
  /** The configured rate per minute; Infinity when writes are unpaced. */
  configuredPerMinute: number;
  /** The rate per minute now. */
  currentPerMinute: number;
  /** The lowest rate per minute reached. */
  lowestPerMinute: number;
  /** Rate-limit answers (retryable 429s) to writes. */
  rateLimited: number;
}

export interface AimdOptions {
  /** Lowest rate a 429 can cut to, per minute; default 3 (or the configured rate, if lower). */
  floorPerMinute?: number;
  /** Factor a 429 multiplies the rate by; default 0.75. */
  decrease?: number;
  /** Fraction of the configured rate added after each run of successes; default 0.1. */
  increase?: number;
}

const DEFAULT_FLOOR_PER_MINUTE = 3;

/**
 * A quarter off per limit met, not half: the 429 already holds every write for its retry-after,
 * so the cut only has to keep the next minute under the limit, and climbing back from half the
 * rate (ten raises) cost a 1,000-write apply a tenth of its time against a limit it had met once.
 */
const DEFAULT_DECREASE = 0.75;

/**
 * A token bucket for writes with an AIMD rate. `take()` resolves with a ticket when one write
 * may be sent; the caller reports how it was answered with `succeeded(ticket)` or
 * `rateLimited(ticket, retryAfterMs)`. Takers are served in order, one at a time, so concurrent
 * writers never overspend. A rate of 0 (or not finite) means unpaced: 429s are still counted
 * and `retry-after` still holds the bucket, but there is no rate to cut.
 */
export class WriteBucket {
  readonly configuredPerMinute: number;
  private readonly floor: number;
  private readonly decrease: number;
  private readonly step: number;
  private perMinute: number;
  private lowest: number;
  private tokens: number;
  private last: number;
  private holdUntil = Number.NEGATIVE_INFINITY;
  private queue: Promise<unknown> = Promise.resolve();
  /** Tickets issued so far; the ticket of a write is the count when it was issued. */
  private issued = 0;
  /** `issued` at the last cut: 429s of earlier tickets do not cut again. */
  private cutAt = 0;
  /** Successes of writes issued since the last change of rate. */
  private run = 0;
  private limited = 0;

  constructor(
    perMinute: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
    options: AimdOptions = {},
  ) {
    this.configuredPerMinute = perMinute > 0 && Number.isFinite(perMinute) ? perMinute : Number.POSITIVE_INFINITY;
    const floor = options.floorPerMinute !== undefined && options.floorPerMinute > 0 ? options.floorPerMinute : DEFAULT_FLOOR_PER_MINUTE;
    this.floor = Math.min(this.configuredPerMinute, floor);
    this.decrease = Math.min(1, Math.max(0, options.decrease ?? DEFAULT_DECREASE));
    this.step = this.configuredPerMinute * Math.max(0, options.increase ?? 0.1);
    this.perMinute = this.lowest = this.configuredPerMinute;
    this.tokens = this.capacity;
    this.last = now();
  }

  /** The burst: a tenth of a minute's worth at the current rate, at least one write. */
  get capacity(): number {
    return Number.isFinite(this.perMinute) ? Math.max(1, Math.ceil(this.perMinute / 10)) : Number.POSITIVE_INFINITY;
  }

  /** Resolves with a ticket when the caller may send one write. */
  take(): Promise<number> {
    const turn = this.queue.then(() => this.takeOne());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** The write with this ticket was answered without a rate limit. */
  succeeded(ticket: number): void {
    if (ticket <= this.cutAt || this.perMinute >= this.configuredPerMinute) return;
    this.run++;
    if (this.run < this.capacity) return;
    this.setRate(Math.min(this.configuredPerMinute, this.perMinute + this.step));
  }

  /**
   * The write with this ticket was answered 429. Cuts the rate (once per limit met: not again
   * for writes issued before the last cut) and holds the bucket closed for `retryAfterMs`.
   */
  rateLimited(ticket: number, retryAfterMs?: number): void {
    this.limited++;
    const t = this.now();
    if (retryAfterMs !== undefined && retryAfterMs > 0) this.holdUntil = Math.max(this.holdUntil, t + retryAfterMs);
    if (ticket <= this.cutAt || !Number.isFinite(this.configuredPerMinute)) return;
    this.cutAt = this.issued;
    this.setRate(Math.max(this.floor, this.perMinute * this.decrease));
    this.tokens = 0;
  }

  stats(): PacingStats {
    return { configuredPerMinute: this.configuredPerMinute, currentPerMinute: this.perMinute, lowestPerMinute: this.lowest, rateLimited: this.limited };
  }

  private setRate(perMinute: number): void {
    this.refill(this.now());
    this.perMinute = perMinute;
    this.lowest = Math.min(this.lowest, perMinute);
    this.tokens = Math.min(this.tokens, this.capacity);
    this.run = 0;
  }

  private refill(t: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + (Math.max(0, t - this.last) * this.perMinute) / 60_000);
    this.last = Math.max(this.last, t);
  }

  private async takeOne(): Promise<number> {
    for (;;) {
      const t = this.now();
      if (this.holdUntil > t) {
        await this.sleep(this.holdUntil - t);
        this.endHold();
        continue;
      }
      if (!Number.isFinite(this.perMinute)) return ++this.issued;
      this.refill(t);
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return ++this.issued;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute));
    }
  }

  /**
   * The hold is over: it was waited once (a clock that does not move, as in tests with a no-op
   * sleep, must not spin here), and exactly one write may go at once, then the current rate.
   */
  private endHold(): void {
    this.holdUntil = Number.NEGATIVE_INFINITY;
    if (!Number.isFinite(this.perMinute)) return;
    this.last = Math.max(this.last, this.now());
    this.tokens = 1;
  }
}
