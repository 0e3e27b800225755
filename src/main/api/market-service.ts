/**
 * Market health for the API: the gap ledger and the recorded series of `market/<venue>.db` (opened
 * read-only while its collector writes, on the market read thread: see market-read-thread.ts), and
 * the latest top of book per venue and symbol.
 *
 * Market data reaches main at full rate for nobody: the top of book normally comes from the
 * collectors' twice-a-second bus samples, and only while some client subscribes to the `market.top`
 * event does the core subscribe to `md.*.*.top` on the bus, emitting what changed at most four times
 * a second, batched. The subscription ends with the last subscriber (a closed window or socket too).
 */
import type { CommandParsedInput, EventName } from '../../shared/api';
import type { BusSample } from '../../shared/bus';
import { venues, type Venue } from '../../shared/market';
import type {
  MarketGapsResult,
  MarketSeriesResult,
  MarketTop,
  MarketTopResult,
} from '../../shared/market-api';
import type { BusMessage } from '../../services/bus/types';
import { electronNativeBinding } from '../../services/sqlite/native-binding';
import type { EventHub } from './event-hub';
import { MarketReadThread } from './market-read-thread';
import type { GapsQuery, SeriesQuery } from './market-reads';

type TopQuery = CommandParsedInput<'market.top'>;

export interface MarketServiceOptions {
  dataDir: string;
  events: EventHub;
  /** Subscribes on the supervisor's seat on the bus until the returned function is called. */
  watchBus: (pattern: string, handler: (message: BusMessage) => void) => () => void;
  /** How often changed tops are emitted while watched (default 250 ms: at most 4 Hz per symbol). */
  topIntervalMs?: number;
  /** better-sqlite3's addon for this runtime (default: the Electron build inside Electron). */
  nativeBinding?: string;
}

const TOP_EVENT: EventName = 'market.top';
const TOP_PATTERN = 'md.*.*.top';
/** Tops remembered at most (venues × symbols); the oldest go first. */
const MAX_TOPS = 2000;

export class MarketService {
  private readonly tops = new Map<string, MarketTop>();
  private readonly lastTrades = new Map<string, { price: number; ts: number }>();
  private readonly dirty = new Set<string>();
  private unwatch: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly offs: (() => void)[] = [];
  private readonly reads: MarketReadThread;

  constructor(private readonly opts: MarketServiceOptions) {
    // The same addon choice as the recorder and the store: the Electron build inside Electron.
    const nativeBinding = opts.nativeBinding ?? electronNativeBinding();
    this.reads = new MarketReadThread({ dataDir: opts.dataDir, ...(nativeBinding ? { nativeBinding } : {}) });
    this.offs.push(
      opts.events.listen((event, payload) => {
        if (event === 'bus.sample') this.onSample(payload as BusSample);
      }),
      opts.events.onInterest((event, subscribers) => {
        if (event === TOP_EVENT) this.setWatching(subscribers > 0);
      }),
    );
    this.setWatching(opts.events.subscribers(TOP_EVENT) > 0);
  }

  // ---- recorded data, read on the market read thread ----

  gaps(q: GapsQuery): Promise<MarketGapsResult> {
    return this.reads.read('gaps', q);
  }

  series(q: SeriesQuery): Promise<MarketSeriesResult> {
    return this.reads.read('series', q);
  }

  // ---- top of book ----

  top(q: TopQuery): MarketTopResult {
    const tops = [...this.tops.values()]
      .filter(
        (t) =>
          (q.venue === undefined || t.venue === q.venue) && (q.symbol === undefined || t.symbol === q.symbol),
      )
      .sort((a, b) => venues.indexOf(a.venue) - venues.indexOf(b.venue) || a.symbol.localeCompare(b.symbol));
    return { at: Date.now(), live: this.unwatch !== null, tops };
  }

  /** Stops carrying tops; reads in flight are answered with an error, and the read thread ends. */
  async close(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    this.setWatching(false);
    await this.reads.close();
  }

  private setWatching(on: boolean): void {
    if (on && !this.unwatch) {
      this.unwatch = this.opts.watchBus(TOP_PATTERN, (m) => this.onTop(m.data));
      // The first batch carries everything known, so a new watcher needs no separate snapshot.
      for (const key of this.tops.keys()) this.dirty.add(key);
      this.timer = setInterval(() => this.flush(), this.opts.topIntervalMs ?? 250);
      this.timer.unref();
    } else if (!on && this.unwatch) {
      this.unwatch();
      this.unwatch = null;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.dirty.clear();
    }
  }

  private flush(): void {
    if (this.dirty.size === 0) return;
    const tops = [...this.dirty].flatMap((key) => this.tops.get(key) ?? []);
    this.dirty.clear();
    if (tops.length > 0) this.opts.events.emit('market.top', { at: Date.now(), tops });
  }

  private onSample(sample: BusSample): void {
    if (typeof sample !== 'object' || sample === null || typeof sample.last !== 'object') return;
    for (const [subject, data] of Object.entries(sample.last ?? {})) {
      if (subject.endsWith('.top')) this.onTop(data);
      else if (subject.endsWith('.trade')) this.onTrade(data);
    }
  }

  private onTop(data: unknown): void {
    const t = data as Partial<Record<string, unknown>> | null;
    if (
      typeof t !== 'object' ||
      t === null ||
      t.type !== 'top' ||
      !venues.includes(t.venue as Venue) ||
      typeof t.symbol !== 'string' ||
      ![t.bidPrice, t.bidSize, t.askPrice, t.askSize, t.exchangeTs, t.localTs].every(isFiniteNumber)
    )
      return;
    const venue = t.venue as Venue;
    const key = `${venue}|${t.symbol}`;
    const known = this.tops.get(key);
    const exchangeTs = t.exchangeTs as number;
    // A sample repeats what the live subscription already delivered: only newer tops count.
    if (known && known.exchangeTs > exchangeTs) return;
    const bid = t.bidPrice as number;
    const ask = t.askPrice as number;
    if (known && known.exchangeTs === exchangeTs && known.bid === bid && known.ask === ask) return;
    const mid = (bid + ask) / 2;
    const trade = this.lastTrades.get(key);
    this.remember(key, {
      venue,
      symbol: t.symbol,
      bid,
      bidSize: t.bidSize as number,
      ask,
      askSize: t.askSize as number,
      spread: ask - bid,
      spreadBps: mid > 0 ? ((ask - bid) / mid) * 10_000 : 0,
      exchangeTs,
      localTs: t.localTs as number,
      last: trade?.price ?? null,
      lastTs: trade?.ts ?? null,
    });
  }

  private onTrade(data: unknown): void {
    const t = data as Partial<Record<string, unknown>> | null;
    if (
      typeof t !== 'object' ||
      t === null ||
      t.type !== 'trade' ||
      typeof t.venue !== 'string' ||
      typeof t.symbol !== 'string' ||
      !isFiniteNumber(t.price) ||
      !isFiniteNumber(t.exchangeTs)
    )
      return;
    const key = `${t.venue}|${t.symbol}`;
    const known = this.lastTrades.get(key);
    if (known && known.ts > t.exchangeTs) return;
    this.lastTrades.set(key, { price: t.price, ts: t.exchangeTs });
    if (this.lastTrades.size > MAX_TOPS) this.lastTrades.delete(this.lastTrades.keys().next().value!);
    const top = this.tops.get(key);
    if (top && top.last !== t.price) this.remember(key, { ...top, last: t.price, lastTs: t.exchangeTs });
  }

  private remember(key: string, top: MarketTop): void {
    this.tops.delete(key); // re-inserted last: the map's order is least recently updated first
    this.tops.set(key, top);
    if (this.tops.size > MAX_TOPS) this.tops.delete(this.tops.keys().next().value!);
    if (this.unwatch) this.dirty.add(key);
  }
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
