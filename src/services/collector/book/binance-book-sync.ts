/**
 * Keeps one symbol's local order book in step with Binance, following the exchange's documented
 * local-book algorithms to the letter (reference/exchanges.md B1 spot, B2 USD-M):
 *
 * - Spot: buffer diff events and note the first `U`; a snapshot with `lastUpdateId` < that `U` is too
 *   old (ask again); drop buffered events with `u <= lastUpdateId`; the first remaining event must have
 *   `U <= lastUpdateId + 1 <= u`; then, for each event: `u <= bookId` → duplicate, ignored;
 *   `U > bookId + 1` → events were missed; otherwise apply and set bookId = `u`. A snapshot that lands
 *   before any event (the stream is slow) is held, and the first events past it must fit it.
 * - USD-M: buffer; drop events with `u < lastUpdateId`; the first processed event must satisfy
 *   `U <= lastUpdateId <= u`; afterwards each event's `pu` must equal the previous event's `u`. Ids jump
 *   between events, so `U` is never compared with `u + 1`. Events already applied (`u <= bookId`, as a
 *   rotated connection overlapping the old one delivers them twice) are ignored before the `pu` check.
 * - After every applied event a crossed book (best bid >= best ask) is treated as corruption.
 *
 * Driving it (the collector's side of the contract):
 * - Feed every parsed `depthUpdate` of the symbol to `onDiff`, in arrival order, from every connection.
 * - When the sync calls `hooks.requestSnapshot()`, fetch the REST snapshot (with whatever rate limiting
 *   and backoff the collector applies) and answer exactly once with `onSnapshot` or `onSnapshotFailed`.
 *   The sync never has two requests outstanding, except across `reset()`, which forgets the pending one
 *   (a late answer is still checked against the stream, so delivering or dropping it are both safe).
 * - After a disconnect, call `reset(reason)` and record the disconnect gap yourself. The sync then waits
 *   for the new connection's first event before it asks for a snapshot.
 *
 * What it reports:
 * - `onSynced(book, seq, exchangeTs)`: the book is whole again (after the snapshot and the buffered
 *   events): publish it as a snapshot record; a gap opened by `onGap` ends here.
 * - `onDelta(bids, asks, seq, exchangeTs)`: one live event was applied (the event's own arrays).
 * - `onGap(cause, detail, lastGoodAt)`: a synced book was lost (`sequence` or `crossed`), called once per
 *   loss; `lastGoodAt` is the receive time of the last good event (or of the sync).
 * - `onSyncFailed(cause, detail)` (optional): while not synced, an attempt failed and the sync starts
 *   over (snapshot too old or not fitting, snapshot crossed, fetch failed, gap among buffered events,
 *   buffer overflow). The book was already unusable, so this opens no new gap.
 */
import type { GapCause, Level } from '../../../shared/market';
import type { DepthDiff, DepthSnapshot } from '../binance/parse';
import { OrderBook } from './order-book';

export type BookSyncMode = 'spot' | 'usdm';

/**
 * - `idle`: nothing to do until the first event (start, or after `reset`).
 * - `buffering`: events are buffered while a snapshot is awaited or checked.
 * - `synced`: the book is live; events are applied as they come.
 */
export type BookSyncState = 'idle' | 'buffering' | 'synced';

export type BookGapCause = Extract<GapCause, 'sequence' | 'crossed' | 'snapshot'>;

export interface BookSyncHooks {
  requestSnapshot(): void;
  onSynced(book: OrderBook, seq: number, exchangeTs: number): void;
  onDelta(bids: Level[], asks: Level[], seq: number, exchangeTs: number): void;
  onGap(cause: BookGapCause, detail: string, lastGoodAt: number): void;
  onSyncFailed?(cause: BookGapCause, detail: string): void;
}

export interface BookSyncOptions {
  /**
   * The `limit` of the REST snapshots. A side that came back this full was cut there by the exchange,
   * so the book can vouch only for prices up to its last level (see `trim`). Unset: snapshots are
   * taken as whole books.
   */
  snapshotLimit?: number;
  /** Buffered events before the sync starts over (default 20 000). */
  maxBufferedEvents?: number;
  /** Receive-time span of the buffer before the sync starts over (default 30 s). */
  maxBufferMs?: number;
}

export interface BookSyncCounters {
  /** Events applied to the book (buffered ones replayed at sync included). */
  applied: number;
  /** Events ignored because the book already had them (`u <= bookId`). */
  ignoredDuplicates: number;
  /** Buffered events dropped as older than the snapshot. */
  dropped: number;
  /** Times the book became synced. */
  syncs: number;
  /** Synced books lost (`onGap` calls). */
  gaps: number;
  /** Times the sync started over: after a gap or a failed attempt (not after `reset`). */
  resyncs: number;
  snapshotRequests: number;
  /** Snapshots that did not fit the stream (too old, or the stream had a hole), or were crossed. */
  snapshotsRejected: number;
  /** Snapshot answers that came while synced (late answers to a forgotten request): ignored. */
  snapshotsIgnored: number;
  overflows: number;
}

export class BinanceBookSync {
  readonly book = new OrderBook();
  readonly counters: BookSyncCounters = {
    applied: 0,
    ignoredDuplicates: 0,
    dropped: 0,
    syncs: 0,
    gaps: 0,
    resyncs: 0,
    snapshotRequests: 0,
    snapshotsRejected: 0,
    snapshotsIgnored: 0,
    overflows: 0,
  };
  /** The detail of the last gap, failed attempt or reset, for health reports. */
  lastProblem: string | undefined;

  private _state: BookSyncState = 'idle';
  /** The update id the book is at; -1 when not synced. */
  private id = -1;
  private buffer: DepthDiff[] = [];
  /** Spot step 2: the `U` of the first event buffered in this attempt (-1: none yet). */
  private firstU = -1;
  private bufferSince = 0;
  private candidate: DepthSnapshot | undefined;
  private snapshotPending = false;
  private lastGoodAt = 0;
  private readonly maxBufferedEvents: number;
  private readonly maxBufferMs: number;
  private readonly snapshotLimit: number;
  /**
   * Per side, the worst price the book is complete up to (null: complete to the end). Past it, a level
   * that never changed since the snapshot is unknown (exchanges.md B1), so levels there cannot be
   * trusted to be the next ones.
   */
  private readonly edges: { bid: number | null; ask: number | null } = { bid: null, ask: null };

  constructor(
    readonly symbol: string,
    readonly mode: BookSyncMode,
    private readonly hooks: BookSyncHooks,
    options: BookSyncOptions = {},
  ) {
    this.maxBufferedEvents = options.maxBufferedEvents ?? 20_000;
    this.maxBufferMs = options.maxBufferMs ?? 30_000;
    this.snapshotLimit = options.snapshotLimit ?? Infinity;
  }

  /**
   * Keeps the book to what it can vouch for, at most `maxLevels` per side: levels past the snapshot's
   * edge go (diffs add them there, but the ones around them are unknown), then the worst levels past
   * `maxLevels`, whose price becomes the new edge. So every level kept is exact and contiguous from
   * the top; after deletions near the top the book may hold fewer than `maxLevels` until the
   * exchange's next snapshot, never a wrong one.
   */
  trim(maxLevels: number): void {
    for (const side of ['bid', 'ask'] as const) {
      const edge = this.edges[side];
      if (edge !== null) this.book.dropBeyond(side, edge);
      if (this.book.depth(side) > maxLevels) {
        this.book.truncate(side, maxLevels);
        this.edges[side] = this.book.priceAt(side, maxLevels - 1) ?? null;
      }
    }
  }

  get state(): BookSyncState {
    return this._state;
  }

  /** The update id of the book (the last applied `u`, or the snapshot's id); undefined unless synced. */
  get bookId(): number | undefined {
    return this._state === 'synced' ? this.id : undefined;
  }

  /** Events waiting for a snapshot. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** One `depthUpdate` of this symbol, received at `localTs` (epoch ms). */
  onDiff(event: DepthDiff, localTs: number): void {
    if (this._state === 'synced') {
      this.applyLive(event, localTs);
      return;
    }
    this._state = 'buffering';
    if (this.buffer.length === 0) {
      this.bufferSince = localTs;
    } else if (
      this.buffer.length >= this.maxBufferedEvents ||
      localTs - this.bufferSince > this.maxBufferMs
    ) {
      // The snapshot is not coming (or not fitting) in time: bound memory and start over from here.
      this.counters.overflows++;
      const span = localTs - this.bufferSince;
      const detail = `${this.symbol}: ${this.buffer.length} events buffered over ${span} ms without a usable snapshot`;
      this.buffer = [event];
      this.firstU = event.U;
      this.bufferSince = localTs;
      this.failAttempt('snapshot', detail);
      return;
    }
    if (this.firstU === -1) this.firstU = event.U;
    this.buffer.push(event);
    if (this.candidate !== undefined) this.tryResolve(localTs);
    else this.ensureSnapshotRequested();
  }

  /** The answer to `requestSnapshot`, received at `localTs`. */
  onSnapshot(snapshot: DepthSnapshot, localTs: number): void {
    this.snapshotPending = false;
    if (this._state === 'synced') {
      this.counters.snapshotsIgnored++;
      return;
    }
    this._state = 'buffering';
    const last = snapshot.lastUpdateId;
    // Spot step 4, checked when the snapshot lands on buffered events (the doc's rule is strict: an
    // id of first U - 1 would fit, but is asked again like any older one).
    if (this.mode === 'spot' && this.firstU !== -1 && last < this.firstU) {
      this.rejectSnapshot(`snapshot lastUpdateId ${last} < first buffered U ${this.firstU}: too old`);
      return;
    }
    // A snapshot may also come before any event (the stream is slow): it is kept, and the first
    // events past it are checked to fit it.
    if (this.candidate === undefined || last > this.candidate.lastUpdateId) this.candidate = snapshot;
    this.tryResolve(localTs);
  }

  /** The snapshot request failed (HTTP error, timeout, unparsable body): the sync asks again. */
  onSnapshotFailed(error: unknown): void {
    this.snapshotPending = false;
    if (this._state !== 'buffering') return;
    const why = error instanceof Error ? error.message : String(error);
    this.failAttempt('snapshot', `${this.symbol}: depth snapshot request failed: ${why}`);
  }

  /**
   * Forgets the book, the buffer and any pending snapshot request, and goes idle (after a disconnect:
   * the collector records that gap itself). The next event starts a new sync.
   */
  reset(reason: string): void {
    this.lastProblem = `${this.symbol}: reset: ${reason}`;
    this._state = 'idle';
    this.clearBook();
    this.buffer = [];
    this.firstU = -1;
    this.candidate = undefined;
    this.snapshotPending = false;
  }

  private applyLive(e: DepthDiff, localTs: number): void {
    const id = this.id;
    if (e.u <= id) {
      this.counters.ignoredDuplicates++;
      return;
    }
    if (this.mode === 'spot' ? e.U > id + 1 : e.pu !== id) {
      this.loseSync('sequence', this.sequenceDetail(e, id), e, localTs);
      return;
    }
    this.book.apply(e.bids, e.asks);
    this.id = e.u;
    this.counters.applied++;
    if (this.book.isCrossed()) {
      // The event itself may be the bad data: the new attempt starts after it.
      this.loseSync('crossed', this.crossedDetail(e.u), undefined, localTs);
      return;
    }
    this.lastGoodAt = localTs;
    this.hooks.onDelta(e.bids, e.asks, e.u, e.T ?? e.E);
  }

  /** Checks the held snapshot against the buffer; syncs when it fits, asks again when it cannot. */
  private tryResolve(localTs: number): void {
    const snap = this.candidate!;
    const last = snap.lastUpdateId;
    const spot = this.mode === 'spot';
    const buf = this.buffer;
    let drop = 0;
    while (drop < buf.length && (spot ? buf[drop]!.u <= last : buf[drop]!.u < last)) drop++;
    if (drop > 0) {
      this.counters.dropped += drop;
      buf.splice(0, drop);
    }
    if (buf.length === 0) return; // every event so far predates the snapshot: wait for newer ones
    const first = buf[0]!;
    if (spot ? first.U > last + 1 : first.U > last) {
      // Updates between the snapshot and the first remaining event are missing (the snapshot is too
      // old for USD-M, or the buffered stream has a hole): only events from here on are worth keeping.
      this.firstU = first.U;
      this.rejectSnapshot(
        `first event after snapshot ${last} has U ${first.U} > ${spot ? last + 1 : last}: updates missing`,
      );
      return;
    }

    this.candidate = undefined;
    this.book.reset(snap.bids, snap.asks);
    // Binance sends snapshot levels best first: a full side was cut at its last level.
    this.edges.bid = snap.bids.length >= this.snapshotLimit ? (snap.bids.at(-1)?.[0] ?? null) : null;
    this.edges.ask = snap.asks.length >= this.snapshotLimit ? (snap.asks.at(-1)?.[0] ?? null) : null;
    if (this.book.isCrossed()) {
      this.clearBook();
      this.counters.snapshotsRejected++;
      this.failAttempt('snapshot', `${this.symbol}: snapshot ${last} is crossed`);
      return;
    }
    this.id = last;
    let exchangeTs = snap.T ?? snap.E ?? localTs;
    for (let i = 0; i < buf.length; i++) {
      const e = buf[i]!;
      const id = this.id;
      // The first USD-M event was checked against the snapshot above (U <= lastUpdateId <= u) and is
      // applied even when u == lastUpdateId; every other event chains like a live one.
      if (spot || i > 0) {
        if (e.u <= id) {
          this.counters.ignoredDuplicates++;
          continue;
        }
        if (spot ? e.U > id + 1 : e.pu !== id) {
          const detail = this.sequenceDetail(e, id);
          this.restartBuffer(buf.slice(i));
          this.failAttempt('sequence', `${detail} (while replaying the buffer)`);
          return;
        }
      }
      this.book.apply(e.bids, e.asks);
      this.id = e.u;
      this.counters.applied++;
      exchangeTs = e.T ?? e.E;
      if (this.book.isCrossed()) {
        const detail = this.crossedDetail(e.u);
        this.restartBuffer(buf.slice(i + 1));
        this.failAttempt('crossed', `${detail} (while replaying the buffer)`);
        return;
      }
    }
    this.buffer = [];
    this.firstU = -1;
    this._state = 'synced';
    this.lastGoodAt = localTs;
    this.counters.syncs++;
    this.hooks.onSynced(this.book, this.id, exchangeTs);
  }

  private rejectSnapshot(detail: string): void {
    this.candidate = undefined;
    this.counters.snapshotsRejected++;
    this.failAttempt('snapshot', `${this.symbol}: ${detail}`);
  }

  /** Starts the buffer over from `events` (the consistent tail of the stream). */
  private restartBuffer(events: DepthDiff[]): void {
    this.clearBook();
    this.buffer = events;
    this.firstU = events.length > 0 ? events[0]!.U : -1;
  }

  /** A synced book is lost: discard it, report the gap once, and start a new sync. */
  private loseSync(cause: BookGapCause, detail: string, keep: DepthDiff | undefined, localTs: number): void {
    const lastGoodAt = this.lastGoodAt;
    this.counters.gaps++;
    this.counters.resyncs++;
    this.lastProblem = detail;
    this._state = 'buffering';
    this.clearBook();
    this.candidate = undefined;
    // After a sequence gap the offending event is the first of the new stream, so it is kept.
    this.buffer = keep === undefined ? [] : [keep];
    this.firstU = keep === undefined ? -1 : keep.U;
    this.bufferSince = localTs;
    this.hooks.onGap(cause, detail, lastGoodAt);
    this.ensureSnapshotRequested();
  }

  /** An attempt failed while not synced: stay buffering and ask for another snapshot. */
  private failAttempt(cause: BookGapCause, detail: string): void {
    this.counters.resyncs++;
    this.lastProblem = detail;
    this._state = 'buffering';
    this.hooks.onSyncFailed?.(cause, detail);
    this.ensureSnapshotRequested();
  }

  private ensureSnapshotRequested(): void {
    if (this.snapshotPending || this._state !== 'buffering') return;
    this.snapshotPending = true;
    this.counters.snapshotRequests++;
    this.hooks.requestSnapshot();
  }

  private clearBook(): void {
    this.book.clear();
    this.id = -1;
  }

  private sequenceDetail(e: DepthDiff, id: number): string {
    return this.mode === 'spot'
      ? `${this.symbol}: event U=${e.U} u=${e.u} after book id ${id}: updates ${id + 1}..${e.U - 1} missed`
      : `${this.symbol}: event pu=${String(e.pu)} u=${e.u} does not chain to previous u=${id}`;
  }

  private crossedDetail(u: number): string {
    const bid = this.book.bestBid()![0];
    const ask = this.book.bestAsk()![0];
    return `${this.symbol}: book crossed after u=${u}: best bid ${bid} >= best ask ${ask}`;
  }
}
