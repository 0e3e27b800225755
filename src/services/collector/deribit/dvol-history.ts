/**
 * The DVOL history back-fill: 1-minute bars of one currency over a fixed range, fetched page by page
 * with `public/get_volatility_index_data`. Deribit answers the newest rows of the range (oldest first
 * within a page) and a `continuation` to pass as the next `end_timestamp`, so pages walk back in time.
 *
 * `DvolHistoryCursor` is the paging itself, without I/O: which page to ask next, and which bars of an
 * answer are new (inside the range, older than everything seen), so an overlapping or repeated page
 * never yields a bar twice. `DvolBackfill` runs it, retrying a failed page later from where it stopped.
 */
import type { VolatilityIndexRecord } from '../../../shared/market';
import type { VolatilityPage } from './parse';

export const DVOL_BAR_RESOLUTION = '60';
export const DVOL_BAR_MS = 60_000;

export interface DvolPageRequest {
  start_timestamp: number;
  end_timestamp: number;
}

export class DvolHistoryCursor {
  private cursor: number;
  private oldestSeen = Infinity;
  private _done = false;
  pages = 0;
  bars = 0;

  /** Bars starting in [from, to], both in epoch ms. */
  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    this.cursor = to;
    if (to < from) this._done = true;
  }

  get done(): boolean {
    return this._done;
  }

  /** The next page to ask for, or null when done. */
  next(): DvolPageRequest | null {
    return this._done ? null : { start_timestamp: this.from, end_timestamp: this.cursor };
  }

  /** An answer to `next()`: returns its new bars, oldest first, and moves on. */
  accept(page: VolatilityPage): VolatilityIndexRecord[] {
    this.pages++;
    const fresh = page.bars
      .filter((b) => b.exchangeTs >= this.from && b.exchangeTs <= this.to && b.exchangeTs < this.oldestSeen)
      .sort((a, b) => a.exchangeTs - b.exchangeTs);
    // Rows of one timestamp twice in a page: keep the first.
    const out = fresh.filter((b, i) => i === 0 || b.exchangeTs !== fresh[i - 1]!.exchangeTs);
    if (out.length > 0) this.oldestSeen = out[0]!.exchangeTs;
    this.bars += out.length;
    const next = page.continuation;
    // A continuation that does not move back in time would page forever: stop there.
    if (next === null || next < this.from || next >= this.cursor) this._done = true;
    else this.cursor = next;
    return out;
  }
}

export interface DvolBackfillOptions {
  currency: string;
  from: number;
  to: number;
  /** One page: the raw result of the call (throws when the call fails). */
  fetchPage(request: DvolPageRequest & { currency: string; resolution: string }): Promise<unknown>;
  /** Parses a page's result. */
  parse(result: unknown): { ok: true; value: VolatilityPage } | { ok: false; error: string };
  /** New bars of a page, oldest first. */
  onBars(bars: VolatilityIndexRecord[]): void;
  /** Resolves when pages may be fetched (connected, not paused); rejects when stopped. */
  ready(): Promise<void>;
  log(line: string): void;
  /** Wait before retrying a failed page: first, then doubling up to the cap. Default 2 s, 60 s. */
  retryMs?: { first: number; cap: number };
}

export interface DvolBackfillProgress {
  currency: string;
  from: number;
  to: number;
  pages: number;
  bars: number;
  failures: number;
  done: boolean;
  lastError: string | null;
}

export class DvolBackfill {
  private readonly cursor: DvolHistoryCursor;
  private failures = 0;
  private lastError: string | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: DvolBackfillOptions) {
    this.cursor = new DvolHistoryCursor(options.from, options.to);
  }

  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  progress(): DvolBackfillProgress {
    return {
      currency: this.options.currency,
      from: this.options.from,
      to: this.options.to,
      pages: this.cursor.pages,
      bars: this.cursor.bars,
      failures: this.failures,
      done: this.cursor.done,
      lastError: this.lastError,
    };
  }

  private async run(): Promise<void> {
    const o = this.options;
    const retry = o.retryMs ?? { first: 2_000, cap: 60_000 };
    let delay = retry.first;
    for (let request = this.cursor.next(); request !== null && !this.stopped; request = this.cursor.next()) {
      try {
        await o.ready();
        if (this.stopped) return;
        const result = await o.fetchPage({
          ...request,
          currency: o.currency,
          resolution: DVOL_BAR_RESOLUTION,
        });
        const page = o.parse(result);
        if (!page.ok) throw new Error(page.error);
        if (this.stopped) return;
        await o.ready(); // paused while the page was on its way: record it on resume
        if (this.stopped) return;
        const bars = this.cursor.accept(page.value);
        if (bars.length > 0) o.onBars(bars);
        delay = retry.first;
      } catch (error) {
        if (this.stopped) return;
        this.failures++;
        this.lastError = error instanceof Error ? error.message : String(error);
        o.log(
          `DVOL ${o.currency} history: page failed (${this.lastError}); retrying in ${Math.round(delay / 1000)} s`,
        );
        await this.sleep(delay);
        delay = Math.min(retry.cap, delay * 2);
      }
    }
    if (!this.stopped) {
      o.log(
        `DVOL ${o.currency} history: ${this.cursor.bars} 1-minute bars back-filled in ${this.cursor.pages} pages`,
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
