/**
 * Keeps one instrument's local order book in step with Deribit's `book.{instrument}.100ms` channel
 * (reference/exchanges.md B4): the subscription's first message is the full book with a `change_id`;
 * each later change is accepted iff its `prev_change_id` equals the last `change_id`. On a mismatch, or
 * when a change leaves the book crossed, the book is discarded and the channel resubscribed
 * (unsubscribe, subscribe) for a new snapshot; changes are ignored until it comes.
 *
 * A book is bound to the socket (generation) whose snapshot it holds: during a rotation both sockets
 * deliver the channel, each with its own chain, and only the bound one's changes apply. A snapshot
 * from a newer socket takes over; anything from an older one is ignored.
 *
 * Driving it: feed every parsed book event of the instrument to `onEvent` with its generation; call
 * `lose` when the bound socket goes down (the collector records that gap itself); re-run
 * `hooks.resubscribe` when `resyncOverdue` says a requested snapshot never came.
 */
import type { GapCause, Level } from '../../../shared/market';
import { OrderBook } from '../book/order-book';
import type { BookEvent } from './parse';

export type DeribitBookState = 'idle' | 'synced' | 'resyncing';
export type DeribitBookGapCause = Extract<GapCause, 'sequence' | 'crossed'>;

export interface DeribitBookHooks {
  /** The book is whole (a snapshot): publish it; an open gap ends here. */
  onSynced(book: OrderBook, changeId: number, exchangeTs: number): void;
  /** One change applied (its own level arrays). */
  onDelta(bids: Level[], asks: Level[], changeId: number, exchangeTs: number): void;
  /** A synced book was lost; `lastGoodAt` is the receive time of the last good message. */
  onGap(cause: DeribitBookGapCause, detail: string, lastGoodAt: number): void;
  /** Unsubscribe and subscribe the book channel on socket `generation`, for a new snapshot. */
  resubscribe(generation: number): void;
}

export interface DeribitBookCounters {
  snapshots: number;
  applied: number;
  /** Changes ignored: from another socket than the bound one, or while waiting for a snapshot. */
  ignored: number;
  /** Snapshots from an older socket than the bound one. */
  staleSnapshots: number;
  gaps: number;
  resubscribes: number;
}

export class DeribitBook {
  readonly book = new OrderBook();
  readonly counters: DeribitBookCounters = {
    snapshots: 0,
    applied: 0,
    ignored: 0,
    staleSnapshots: 0,
    gaps: 0,
    resubscribes: 0,
  };
  /** The detail of the last gap or loss, for logs and health. */
  lastProblem: string | undefined;

  private _state: DeribitBookState = 'idle';
  private _generation: number | null = null;
  private changeId = -1;
  private lastGoodAt = 0;
  private resubscribedAt = 0;

  constructor(
    readonly instrument: string,
    private readonly hooks: DeribitBookHooks,
  ) {}

  get state(): DeribitBookState {
    return this._state;
  }

  /** The socket whose snapshot the book holds (or awaits, while resyncing); null when lost. */
  get generation(): number | null {
    return this._generation;
  }

  /** The last applied `change_id`; undefined unless synced. */
  get bookId(): number | undefined {
    return this._state === 'synced' ? this.changeId : undefined;
  }

  onEvent(event: BookEvent, generation: number, localTs: number): void {
    if (event.type === 'snapshot') this.onSnapshot(event, generation, localTs);
    else this.onChange(event, generation, localTs);
  }

  /**
   * The bound socket went down: the book cannot be trusted past this point. Returns whether it was
   * synced (then a gap is the caller's to record).
   */
  lose(reason: string): boolean {
    const wasSynced = this._state === 'synced';
    this.lastProblem = `${this.instrument}: ${reason}`;
    this._state = 'idle';
    this._generation = null;
    this.clear();
    return wasSynced;
  }

  /** A resubscription asked `afterMs` ago still brought no snapshot. */
  resyncOverdue(now: number, afterMs: number): boolean {
    return this._state === 'resyncing' && now - this.resubscribedAt >= afterMs;
  }

  /** Asks again for a snapshot on `generation` (e.g. the first request failed). */
  requestSnapshot(generation: number, now: number): void {
    this._generation = generation;
    this.resubscribedAt = now;
    this.counters.resubscribes++;
    this.hooks.resubscribe(generation);
  }

  private onSnapshot(e: BookEvent, generation: number, localTs: number): void {
    if (this._generation !== null && generation < this._generation) {
      this.counters.staleSnapshots++;
      return;
    }
    this.book.reset(e.bids, e.asks);
    this.counters.snapshots++;
    if (this.book.isCrossed()) {
      // Corrupt from the start: there is nothing to keep, ask again.
      const detail = this.crossedDetail(e.changeId, 'snapshot');
      this.lastProblem = detail;
      this.clear();
      if (this._state === 'synced') this.loseSync('crossed', detail, generation, localTs);
      else this.resync(generation, localTs);
      return;
    }
    this._generation = generation;
    this.changeId = e.changeId;
    this._state = 'synced';
    this.lastGoodAt = localTs;
    this.hooks.onSynced(this.book, e.changeId, e.timestamp);
  }

  private onChange(e: BookEvent, generation: number, localTs: number): void {
    if (this._state !== 'synced' || generation !== this._generation) {
      this.counters.ignored++;
      return;
    }
    if (e.prevChangeId !== this.changeId) {
      this.loseSync(
        'sequence',
        `${this.instrument}: change ${e.changeId} has prev_change_id ${String(e.prevChangeId)}, not the last change_id ${this.changeId}`,
        generation,
        localTs,
      );
      return;
    }
    this.book.apply(e.bids, e.asks);
    this.changeId = e.changeId;
    this.counters.applied++;
    if (this.book.isCrossed()) {
      this.loseSync('crossed', this.crossedDetail(e.changeId, 'change'), generation, localTs);
      return;
    }
    this.lastGoodAt = localTs;
    this.hooks.onDelta(e.bids, e.asks, e.changeId, e.timestamp);
  }

  private loseSync(cause: DeribitBookGapCause, detail: string, generation: number, localTs: number): void {
    this.counters.gaps++;
    this.lastProblem = detail;
    const lastGoodAt = this.lastGoodAt;
    this.clear();
    this._state = 'resyncing';
    this.hooks.onGap(cause, detail, lastGoodAt);
    this.resync(generation, localTs);
  }

  private resync(generation: number, now: number): void {
    this._state = 'resyncing';
    this.requestSnapshot(generation, now);
  }

  private clear(): void {
    this.book.clear();
    this.changeId = -1;
  }

  private crossedDetail(changeId: number, what: string): string {
    const bid = this.book.bestBid()![0];
    const ask = this.book.bestAsk()![0];
    return `${this.instrument}: book crossed after ${what} ${changeId}: best bid ${bid} >= best ask ${ask}`;
  }
}
