/**
 * Whether each symbol's market data is fresh: a symbol is stale once no top of book has arrived for
 * longer than `staleAfterMs` (counted from its last top, or from when it was first watched if none
 * came yet: a trader just started gets that long for its first quotes). Times are the engine's clock
 * at arrival, so a tick waiting in the reload buffer still counts as fresh data.
 */
export class Freshness {
  private readonly since = new Map<string, { at: number; top: boolean }>();

  constructor(
    symbols: readonly string[],
    now: number,
    private staleAfterMs: number,
  ) {
    this.watch(symbols, now);
  }

  setStaleAfter(ms: number): void {
    this.staleAfterMs = ms;
  }

  /** Starts watching new symbols (from `now`) and stops watching the ones not listed. */
  watch(symbols: readonly string[], now: number): void {
    for (const s of [...this.since.keys()]) if (!symbols.includes(s)) this.since.delete(s);
    for (const s of symbols) if (!this.since.has(s)) this.since.set(s, { at: now, top: false });
  }

  /** A top of book for `symbol` arrived at `at`. */
  touch(symbol: string, at: number): void {
    const s = this.since.get(symbol);
    if (s) {
      s.at = at;
      s.top = true;
    }
  }

  /** Local time of the last top (null before the first). */
  lastTop(symbol: string): number | null {
    const s = this.since.get(symbol);
    return s?.top ? s.at : null;
  }

  isStale(symbol: string, now: number): boolean {
    const s = this.since.get(symbol);
    return s !== undefined && now - s.at > this.staleAfterMs;
  }

  /** The stale symbols with how long each has been without a top (ms). */
  stale(now: number): { symbol: string; forMs: number; never: boolean }[] {
    const out: { symbol: string; forMs: number; never: boolean }[] = [];
    for (const [symbol, s] of this.since) {
      if (now - s.at > this.staleAfterMs) out.push({ symbol, forMs: now - s.at, never: !s.top });
    }
    return out;
  }
}
