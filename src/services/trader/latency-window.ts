/**
 * Latency percentiles over the last 60 s in bounded memory whatever the tick rate: one histogram per
 * second (log buckets 5 % wide, 1 µs to ~100 s), the 60 most recent merged on demand. A percentile is
 * the upper edge of its bucket: at most 5 % above the true value.
 */
const SLOTS = 60;
const MIN_MS = 0.001;
const GROWTH = 1.05;
const BUCKETS = Math.ceil(Math.log(100_000 / MIN_MS) / Math.log(GROWTH)) + 1;

export class LatencyWindow {
  private readonly counts = new Uint32Array(SLOTS * BUCKETS);
  /** The second each slot holds (-1: empty). */
  private readonly seconds = new Float64Array(SLOTS).fill(-1);

  constructor(private readonly now: () => number = Date.now) {}

  add(ms: number): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % SLOTS;
    if (this.seconds[slot] !== second) {
      this.counts.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
      this.seconds[slot] = second;
    }
    this.counts[slot * BUCKETS + bucketOf(ms)]! += 1;
  }

  /** The p-th percentiles (0–100) of the last 60 s, in ms; null when nothing was added. */
  percentiles(ps: readonly number[]): (number | null)[] {
    const second = Math.floor(this.now() / 1000);
    const merged = new Float64Array(BUCKETS);
    let total = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const s = this.seconds[slot]!;
      if (s < 0 || s <= second - SLOTS || s > second) continue;
      for (let b = 0; b < BUCKETS; b++) merged[b]! += this.counts[slot * BUCKETS + b]!;
    }
    for (let b = 0; b < BUCKETS; b++) total += merged[b]!;
    return ps.map((p) => {
      if (total === 0) return null;
      const rank = Math.max(1, Math.ceil((p / 100) * total));
      let seen = 0;
      for (let b = 0; b < BUCKETS; b++) {
        seen += merged[b]!;
        if (seen >= rank) return upperEdge(b);
      }
      return upperEdge(BUCKETS - 1);
    });
  }
}

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(GROWTH)));
}

function upperEdge(bucket: number): number {
  return MIN_MS * GROWTH ** bucket;
}
