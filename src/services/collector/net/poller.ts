/**
 * Runs a REST poll (open interest, long/short ratios...) on an interval without ever overlapping runs:
 * the next run is planned only when the previous one has finished, `intervalMs` after its end. A
 * `RateLimitedError` pauses the poller until its `retryAt` (never earlier than the interval).
 */
import { RateLimitedError } from './rest-client';

export interface PollerOptions {
  intervalMs: number;
  run: () => Promise<void>;
  /** Every failed run, rate limits included (the poller has already planned the retry). */
  onError: (err: unknown) => void;
  /** Delay before the first run. Default 0 (at once, on `start()`). */
  initialDelayMs?: number;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export interface PollerStats {
  runs: number;
  errors: number;
  /** Runs that ended with a RateLimitedError. */
  rateLimited: number;
  /** Epoch ms when the last run ended, or null. */
  lastRunAt: number | null;
  /** Epoch ms of the next planned run, or null (running, or stopped). */
  nextRunAt: number | null;
  running: boolean;
}

export class Poller {
  private readonly opts: PollerOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private started = false;
  private stopped = false;
  private counters = { runs: 0, errors: 0, rateLimited: 0 };
  private lastRunAt: number | null = null;
  private nextRunAt: number | null = null;

  constructor(options: PollerOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0 (got ${options.intervalMs})`);
    this.opts = options;
    this.now = options.now ?? Date.now;
  }

  /** Plans the first run (after `initialDelayMs`, default at once). Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.plan(this.opts.initialDelayMs ?? 0);
  }

  /** No further runs. Resolves when a run in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRunAt = null;
    await this.inFlight;
  }

  stats(): PollerStats {
    return {
      ...this.counters,
      lastRunAt: this.lastRunAt,
      nextRunAt: this.nextRunAt,
      running: this.inFlight !== null,
    };
  }

  private plan(delayMs: number): void {
    if (this.stopped) return;
    const delay = Math.max(0, delayMs);
    this.nextRunAt = this.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextRunAt = null;
      this.inFlight = this.runOnce().finally(() => {
        this.inFlight = null;
      });
    }, delay);
  }

  private async runOnce(): Promise<void> {
    let delay = this.opts.intervalMs;
    try {
      this.counters.runs++;
      await this.opts.run();
    } catch (err) {
      this.counters.errors++;
      if (err instanceof RateLimitedError) {
        this.counters.rateLimited++;
        delay = Math.max(delay, err.retryAt - this.now());
      }
      try {
        this.opts.onError(err);
      } catch (handlerErr) {
        console.error('poller: onError threw:', handlerErr);
      }
    }
    this.lastRunAt = this.now();
    this.plan(delay);
  }
}
