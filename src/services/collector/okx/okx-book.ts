/**
 * Keeps one instrument's local book in step with OKX's `books` channel (reference/exchanges.md B3):
 *
 * - A snapshot (`prevSeqId` -1) replaces the book. An update is applied iff its `prevSeqId` equals the
 *   last `seqId`; that one rule also accepts the keep-alive (`seqId == prevSeqId`, no levels) and the
 *   maintenance reset (`seqId < prevSeqId`). Anything else loses the book (`sequence`).
 * - Levels are absolute: size 0 removes the level, any other size replaces it.
 * - After each snapshot or update: a crossed book (best bid >= best ask) is corruption (`crossed`); a
 *   non-zero checksum must equal the CRC32 of our first 25 levels per side, built from the strings as
 *   sent (`checksum`). So each level keeps its original price and size strings next to the numbers.
 * - The book is bound to one socket generation. During a rotation both sockets deliver: messages of
 *   other generations are ignored, and the book moves to a newer generation when that socket's snapshot
 *   arrives (a complete book, so nothing is lost by switching). Snapshots of older generations are
 *   ignored, since their socket is on its way out.
 *
 * A lost book asks the collector for a fresh snapshot (`requestResync`: unsubscribe and subscribe again)
 * and ignores updates until one arrives. Sizes in the book are base units (`toBase` converts contracts).
 */
import type { GapCause, Level } from '../../../shared/market';
import { OrderBook, type BookSide } from '../book/order-book';
import { bookChecksum, CHECKSUM_LEVELS, type RawLevel } from './checksum';
import type { BooksMessage, OkxLevel } from './parse';

export type OkxBookGapCause = Extract<GapCause, 'sequence' | 'crossed' | 'checksum'>;

export interface OkxBookHooks {
  /** The book is whole (after a snapshot): publish it; a gap opened by `onGap` ends here. */
  onSynced(book: OrderBook, seqId: number, exchangeTs: number): void;
  /** One update was applied: its levels in base units (size 0 removes). */
  onDelta(bids: Level[], asks: Level[], seqId: number, exchangeTs: number): void;
  /** A synced book was lost (called once per loss); `lastGoodAt` is when the last good message came. */
  onGap(cause: OkxBookGapCause, detail: string, lastGoodAt: number): void;
  /** A snapshot is needed (after a loss, or when a snapshot itself was bad): resubscribe. */
  requestResync(reason: string): void;
}

export interface OkxBookCounters {
  snapshots: number;
  applied: number;
  keepalives: number;
  /** Messages of a generation the book is not bound to, or updates while waiting for a snapshot. */
  ignored: number;
  gaps: number;
  /** Snapshots rejected (crossed, checksum). */
  badSnapshots: number;
  checksumsVerified: number;
}

export type OkxBookState = 'waiting' | 'synced';

export class OkxBookSync {
  readonly book = new OrderBook();
  readonly counters: OkxBookCounters = {
    snapshots: 0,
    applied: 0,
    keepalives: 0,
    ignored: 0,
    gaps: 0,
    badSnapshots: 0,
    checksumsVerified: 0,
  };
  /** The detail of the last loss or reset, for health reports. */
  lastProblem: string | undefined;

  private _state: OkxBookState = 'waiting';
  /** The generation the book follows; messages of older generations are never used again. */
  private gen = 0;
  private lastSeq = -1;
  private lastGoodAt = 0;
  /** Original strings per price, per side, for the checksum. */
  private readonly rawBids = new Map<number, RawLevel>();
  private readonly rawAsks = new Map<number, RawLevel>();

  constructor(
    readonly instId: string,
    private readonly hooks: OkxBookHooks,
    /** Converts a wire size (contracts on swaps) to base units. */
    private readonly toBase: (size: string) => number,
    /** Levels kept per side: OKX's `books` is 400 deep. */
    private readonly maxLevels = 400,
  ) {}

  get state(): OkxBookState {
    return this._state;
  }

  /** The generation the book is bound to (the last one that gave it a snapshot). */
  get generation(): number {
    return this.gen;
  }

  /** The seqId the book is at; undefined unless synced. */
  get seqId(): number | undefined {
    return this._state === 'synced' ? this.lastSeq : undefined;
  }

  /** One `books` message of this instrument from socket generation `gen`, received at `localTs`. */
  onMessage(m: BooksMessage, gen: number, localTs: number): void {
    if (m.action === 'snapshot') this.onSnapshot(m, gen, localTs);
    else this.onUpdate(m, gen, localTs);
  }

  /**
   * The socket(s) up to generation `gen` went down: the book cannot be trusted past this point. Returns
   * whether a synced book was lost (the caller records the connection's gap itself). A book already on
   * a newer generation is kept.
   */
  reset(gen: number, reason: string): boolean {
    if (this.gen > gen) return false;
    const wasSynced = this._state === 'synced';
    this.lastProblem = `${this.instId}: reset: ${reason}`;
    this.clear();
    return wasSynced;
  }

  /** The local book's checksum as OKX computes it. */
  checksum(): number {
    return bookChecksum(this.raw('bid'), this.raw('ask'));
  }

  /** Drops levels past `maxLevels` per side (OKX's own depth), keeping the strings in step. */
  trim(): void {
    for (const side of ['bid', 'ask'] as const) {
      if (this.book.depth(side) <= this.maxLevels) continue;
      this.book.truncate(side, this.maxLevels);
      const raw = side === 'bid' ? this.rawBids : this.rawAsks;
      for (const price of raw.keys()) if (this.book.size(side, price) === undefined) raw.delete(price);
    }
  }

  private onSnapshot(m: BooksMessage, gen: number, localTs: number): void {
    if (gen < this.gen) {
      this.counters.ignored++;
      return;
    }
    const wasSynced = this._state === 'synced';
    this.clear();
    this.gen = gen;
    this.set('bid', m.bids);
    this.set('ask', m.asks);
    this.trim();
    this.lastSeq = m.seqId;
    this.counters.snapshots++;
    const problem = this.problem(m);
    if (problem) {
      this.counters.badSnapshots++;
      // A bad snapshot while synced on another socket is still a loss; otherwise just ask again.
      if (wasSynced) this.lose(problem[0], problem[1]);
      else {
        this.clear();
        this.lastProblem = problem[1];
        this.hooks.requestResync(problem[1]);
      }
      return;
    }
    this._state = 'synced';
    this.lastGoodAt = localTs;
    this.hooks.onSynced(this.book, m.seqId, m.ts);
  }

  private onUpdate(m: BooksMessage, gen: number, localTs: number): void {
    if (this._state !== 'synced' || gen !== this.gen) {
      this.counters.ignored++;
      return;
    }
    if (m.prevSeqId !== this.lastSeq) {
      this.lose(
        'sequence',
        `${this.instId}: update prevSeqId=${m.prevSeqId} seqId=${m.seqId} does not chain to the last seqId ${this.lastSeq}`,
      );
      return;
    }
    const bids = this.set('bid', m.bids);
    const asks = this.set('ask', m.asks);
    this.lastSeq = m.seqId;
    if (bids.length === 0 && asks.length === 0) this.counters.keepalives++;
    else this.counters.applied++;
    const problem = this.problem(m);
    if (problem) {
      this.lose(problem[0], problem[1]);
      return;
    }
    this.lastGoodAt = localTs;
    this.hooks.onDelta(bids, asks, m.seqId, m.ts);
  }

  /** What is wrong with the book after `m` was applied, if anything. */
  private problem(m: BooksMessage): [OkxBookGapCause, string] | undefined {
    if (this.book.isCrossed()) {
      const bid = this.book.bestBid()![0];
      const ask = this.book.bestAsk()![0];
      return [
        'crossed',
        `${this.instId}: book crossed after seqId ${m.seqId}: best bid ${bid} >= best ask ${ask}`,
      ];
    }
    if (m.checksum !== 0) {
      const ours = this.checksum();
      this.counters.checksumsVerified++;
      if (ours !== m.checksum) {
        return ['checksum', `${this.instId}: checksum ${m.checksum} after seqId ${m.seqId}, ours ${ours}`];
      }
    }
    return undefined;
  }

  /** Applies levels to one side; returns them in base units. */
  private set(side: BookSide, levels: OkxLevel[]): Level[] {
    const raw = side === 'bid' ? this.rawBids : this.rawAsks;
    const out: Level[] = new Array<Level>(levels.length);
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i]!;
      const size = this.toBase(l.sz);
      this.book.set(side, l.price, size);
      if (size > 0) raw.set(l.price, [l.px, l.sz]);
      else raw.delete(l.price);
      out[i] = [l.price, size];
    }
    return out;
  }

  private raw(side: BookSide): RawLevel[] {
    const raw = side === 'bid' ? this.rawBids : this.rawAsks;
    return this.book.levels(side, CHECKSUM_LEVELS).map(([price]) => raw.get(price)!);
  }

  private lose(cause: OkxBookGapCause, detail: string): void {
    this.counters.gaps++;
    this.lastProblem = detail;
    this.clear();
    this.hooks.onGap(cause, detail, this.lastGoodAt);
    this.hooks.requestResync(detail);
  }

  private clear(): void {
    this._state = 'waiting';
    this.book.clear();
    this.rawBids.clear();
    this.rawAsks.clear();
    this.lastSeq = -1;
  }
}
