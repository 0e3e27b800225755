/**
 * Reconnect delays for exchange connections: exponential with full jitter, so that many collectors (or
 * many connections of one collector) that lost the same server do not all come back at the same
 * instant. Binance allows 300 connection attempts per 5 min per IP: a reconnect storm must spread out.
 */

export interface BackoffOptions {
  /** The ceiling of the first delay (the delay itself is uniform in [0, ceiling)). Default 250 ms. */
  baseMs?: number;
  /** No delay exceeds this. Default 30 s. */
  capMs?: number;
  /** A connection up for this long counts as healthy: the next failure starts from the base again. */
  resetAfterMs?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 250, capMs: 30_000, resetAfterMs: 60_000 } as const;

/**
 * Full jitter: uniform in [0, min(cap, base × 2^attempt)), attempt counted from 0. Rounded down to whole
 * milliseconds; the exponent is bounded so that the arithmetic never overflows.
 */
export function fullJitterDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, Math.floor(attempt)), 40));
  return Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
}

/** The retry schedule of one connection. Not a timer: the caller asks for a delay and waits itself. */
export class Backoff {
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly resetAfterMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private attemptCount = 0;
  private upSince: number | null = null;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
    this.resetAfterMs = options.resetAfterMs ?? DEFAULT_BACKOFF.resetAfterMs;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= capMs (got ${this.baseMs}, ${this.capMs})`);
    }
  }

  /** Failed attempts since the last reset: the exponent of the next delay. */
  get attempts(): number {
    return this.attemptCount;
  }

  /**
   * The delay before the next attempt, after a failure or a lost connection. If the connection had been
   * up for `resetAfterMs` or more (see `succeeded`), the schedule starts again from the base.
   */
  next(): number {
    if (this.upSince !== null && this.now() - this.upSince >= this.resetAfterMs) this.attemptCount = 0;
    this.upSince = null;
    return fullJitterDelay(this.attemptCount++, this.baseMs, this.capMs, this.random);
  }

  /** The connection is up: if it stays up for `resetAfterMs`, the next failure restarts from the base. */
  succeeded(): void {
    this.upSince = this.now();
  }

  /** Start again from the base at once. */
  reset(): void {
    this.attemptCount = 0;
    this.upSince = null;
  }
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | null | undefined, now: number): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null || v.trim() === '') return null;
  const seconds = Number(v.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
