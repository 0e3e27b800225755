/**
 * A token bucket for outbound control messages on one WebSocket connection. Binance counts every
 * message it receives on a connection (JSON requests, pings and pongs) and disconnects above 5/s on spot
 * and 10/s on USD-M; repeat offenders get their IP banned. We stay below the limit and leave room for
 * the pongs that `ws` sends on its own.
 */

/** Control messages per second we allow ourselves, per connection (the exchange limit minus headroom). */
export const controlMessageRates = {
  'binance-spot': 4,
  'binance-usdm': 8,
} as const;

export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSec: number;
  /**
   * Bucket size. At most `burst + ratePerSec × T` messages leave in any window of T seconds, so the
   * default of 1 keeps every 1 s window at `ratePerSec` (messages are spaced 1/rate apart).
   */
  burst?: number;
  /** Called when a scheduled function throws; the queue keeps going. Default: console.error. */
  onError?: (err: unknown) => void;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export interface TokenBucketStats {
  /** Functions run. */
  ran: number;
  /** Functions dropped by `clear()`. */
  dropped: number;
  /** Functions waiting now. */
  pending: number;
  /** The longest the queue has been. */
  maxPending: number;
}

export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly onError: (err: unknown) => void;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private readonly queue: (() => void)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private counters = { ran: 0, dropped: 0, maxPending: 0 };

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSec > 0)) throw new RangeError(`ratePerSec must be > 0 (got ${options.ratePerSec})`);
    this.ratePerMs = options.ratePerSec / 1000;
    this.burst = Math.max(1, options.burst ?? 1);
    this.onError = options.onError ?? ((err) => console.error('rate limiter: a scheduled send failed:', err));
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /**
   * Runs `fn` as soon as a token is available, after every function scheduled before it (FIFO). Runs it
   * synchronously, inside this call, when a token is available and nothing is waiting.
   */
  schedule(fn: () => void): void {
    this.queue.push(fn);
    this.counters.maxPending = Math.max(this.counters.maxPending, this.pending);
    this.drain();
  }

  /** Drops everything waiting (e.g. the connection closed: its subscriptions are resent on the next one). */
  clear(): number {
    const dropped = this.pending;
    this.queue.length = 0;
    this.head = 0;
    this.counters.dropped += dropped;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return dropped;
  }

  stats(): TokenBucketStats {
    return { ...this.counters, pending: this.pending };
  }

  private refill(): void {
    const t = this.now();
    // A clock that steps backwards must not take tokens away (nor add any).
    if (t > this.refilledAt)
      this.tokens = Math.min(this.burst, this.tokens + (t - this.refilledAt) * this.ratePerMs);
    this.refilledAt = t;
  }

  private drain(): void {
    // A function that schedules another one runs inside drain(): let the outer loop pick it up.
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending > 0) {
        this.refill();
        // Tolerance for floating-point refill arithmetic (0.9999999 is a token).
        if (this.tokens < 1 - 1e-9) break;
        this.tokens = Math.max(0, this.tokens - 1);
        const fn = this.queue[this.head]!;
        this.queue[this.head++] = noop;
        this.counters.ran++;
        try {
          fn();
        } catch (err) {
          this.onError(err);
        }
      }
      if (this.pending === 0) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head > 1024) {
        // Compact now and then rather than shift() per item.
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    } finally {
      this.draining = false;
    }
    if (this.pending > 0 && !this.timer) {
      const waitMs = Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerMs));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.drain();
      }, waitMs);
    }
  }
}

function noop(): void {}
