/**
 * A local L2 order book: per side, a Map price → size for O(1) updates of existing levels, and a
 * price array kept sorted best-first (bids descending, asks ascending) by binary search, so the top
 * of book and ordered reads need no sort. Books hold ~1000–5000 levels per side: a splice moves at
 * most a few thousand numbers, which is cheaper than any tree at that size.
 */
import type { Level } from '../../../shared/market';

export type BookSide = 'bid' | 'ask';

class SideLevels {
  /** Sorted best-first. */
  readonly prices: number[] = [];
  readonly sizes = new Map<number, number>();

  constructor(private readonly descending: boolean) {}

  /** The index of `price` in `prices`, or where it would be inserted. */
  private indexOf(price: number): number {
    const a = this.prices;
    let lo = 0;
    let hi = a.length;
    // Two loops rather than a comparator callback: this is the hot path of every book update.
    if (this.descending) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid]! > price) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid]! < price) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }

  set(price: number, size: number): void {
    if (size > 0) {
      const had = this.sizes.has(price);
      this.sizes.set(price, size);
      if (!had) {
        const i = this.indexOf(price);
        if (i === this.prices.length) this.prices.push(price);
        else this.prices.splice(i, 0, price);
      }
    } else if (this.sizes.delete(price)) {
      // Removing an absent level is normal on Binance (the level was outside our snapshot): no-op.
      this.prices.splice(this.indexOf(price), 1);
    }
  }

  levels(depth: number): Level[] {
    const n = Math.min(depth, this.prices.length);
    const out: Level[] = new Array<Level>(n);
    for (let i = 0; i < n; i++) {
      const p = this.prices[i]!;
      out[i] = [p, this.sizes.get(p)!];
    }
    return out;
  }

  /** Removes the levels worse than `price` (bids below it, asks above it). */
  dropBeyond(price: number): void {
    const a = this.prices;
    let i = this.indexOf(price);
    if (i < a.length && a[i] === price) i += 1;
    if (i >= a.length) return;
    for (let j = i; j < a.length; j++) this.sizes.delete(a[j]!);
    a.length = i;
  }

  truncate(maxLevels: number): void {
    const a = this.prices;
    if (a.length <= maxLevels) return;
    for (let i = maxLevels; i < a.length; i++) this.sizes.delete(a[i]!);
    a.length = maxLevels;
  }

  clear(): void {
    this.prices.length = 0;
    this.sizes.clear();
  }
}

export class OrderBook {
  private readonly bids = new SideLevels(true);
  private readonly asks = new SideLevels(false);

  /** Replaces the whole book. Levels may come in any order; size 0 entries are skipped. */
  reset(bids: readonly Level[], asks: readonly Level[]): void {
    this.clear();
    this.apply(bids, asks);
  }

  /** Sets one level's size; size 0 (or less) removes it, and removing an absent level is a no-op. */
  set(side: BookSide, price: number, size: number): void {
    (side === 'bid' ? this.bids : this.asks).set(price, size);
  }

  /** Applies a batch of absolute level sizes (a diff event), bids then asks. */
  apply(bids: readonly Level[], asks: readonly Level[]): void {
    const b = this.bids;
    for (let i = 0; i < bids.length; i++) {
      const l = bids[i]!;
      b.set(l[0], l[1]);
    }
    const a = this.asks;
    for (let i = 0; i < asks.length; i++) {
      const l = asks[i]!;
      a.set(l[0], l[1]);
    }
  }

  /** The size at `price`, or undefined when there is no such level. */
  size(side: BookSide, price: number): number | undefined {
    return (side === 'bid' ? this.bids : this.asks).sizes.get(price);
  }

  bestBid(): Level | undefined {
    const p = this.bids.prices[0];
    return p === undefined ? undefined : [p, this.bids.sizes.get(p)!];
  }

  bestAsk(): Level | undefined {
    const p = this.asks.prices[0];
    return p === undefined ? undefined : [p, this.asks.sizes.get(p)!];
  }

  /** Best bid >= best ask: impossible on a live exchange book, so it means our copy is corrupt. */
  isCrossed(): boolean {
    const b = this.bids.prices[0];
    const a = this.asks.prices[0];
    return b !== undefined && a !== undefined && b >= a;
  }

  /** The side's levels best-first, at most `depth` of them (all by default). A fresh array. */
  levels(side: BookSide, depth = Infinity): Level[] {
    return (side === 'bid' ? this.bids : this.asks).levels(depth);
  }

  /** The price at `rank` from the top (0 = best), or undefined past the last level. */
  priceAt(side: BookSide, rank: number): number | undefined {
    return (side === 'bid' ? this.bids : this.asks).prices[rank];
  }

  /** Drops the levels worse than `price` on a side (bids below it, asks above it). */
  dropBeyond(side: BookSide, price: number): void {
    (side === 'bid' ? this.bids : this.asks).dropBeyond(price);
  }

  /** The number of levels on a side. */
  depth(side: BookSide): number {
    return (side === 'bid' ? this.bids : this.asks).prices.length;
  }

  /** Drops the worst levels beyond `maxLevels` (levels far from the top that updates keep adding). */
  truncate(side: BookSide, maxLevels: number): void {
    (side === 'bid' ? this.bids : this.asks).truncate(Math.max(0, Math.floor(maxLevels)));
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }
}
