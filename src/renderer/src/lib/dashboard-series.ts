/**
 * Chart data for the Dashboard as plain, bounded structures outside React: a ring of time buckets
 * allocated whole up front, and the row tables the charts draw. Pure, so the store around it stays
 * small.
 */

/**
 * One chart row: its place on the time axis, one value per series (`s0`, `s1`, ... in the order of
 * `keys`), and for a live row, whose `t` is relative, the time itself.
 */
export interface ChartRow {
  t: number;
  at?: number;
  [series: `s${number}`]: number | null;
}

/** What a chart draws: its series (service names, or a special key) and the rows. */
export interface SeriesTable {
  keys: readonly string[];
  rows: readonly ChartRow[];
}

export const emptyTable: SeriesTable = { keys: [], rows: [] };

export function seriesField(index: number): `s${number}` {
  return `s${index}`;
}

/**
 * The last `buckets` × `widthMs` of several series as time buckets in a ring: per series and bucket,
 * the sum and count of its samples, so a chart draws one mean per bucket. Buckets are aligned to the
 * clock (a point does not move between its bucket's samples), every array is allocated at its full
 * size when the ring or the series is created, and a table always has `buckets` rows: the memory
 * behind the charts is the same after one minute as after ten. A bucket without samples is a break
 * in the line.
 */
export class BucketRing {
  /** The bucket number (time / width) each slot holds; NaN: not used yet. */
  private readonly ids: Float64Array;
  private readonly columns = new Map<string, { sum: Float64Array; count: Uint32Array }>();
  private newest = -Infinity;

  constructor(
    readonly buckets: number,
    readonly widthMs: number,
  ) {
    this.ids = new Float64Array(buckets).fill(NaN);
  }

  /** The span the ring covers. */
  get windowMs(): number {
    return this.buckets * this.widthMs;
  }

  /** Adds one sample to its bucket; a missing value adds nothing. Samples older than the ring are dropped. */
  push(at: number, values: Readonly<Record<string, number | null | undefined>>): void {
    const id = Math.floor(at / this.widthMs);
    if (id <= this.newest - this.buckets) return;
    const slot = this.slotOf(id);
    if (this.ids[slot] !== id) {
      // The slot held a bucket one lap ago: it starts again empty.
      this.ids[slot] = id;
      for (const column of this.columns.values()) {
        column.sum[slot] = 0;
        column.count[slot] = 0;
      }
    }
    this.newest = Math.max(this.newest, id);
    for (const key in values) {
      const value = values[key];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      let column = this.columns.get(key);
      if (!column) {
        column = { sum: new Float64Array(this.buckets), count: new Uint32Array(this.buckets) };
        this.columns.set(key, column);
      }
      column.sum[slot] = column.sum[slot]! + value;
      column.count[slot] = column.count[slot]! + 1;
    }
  }

  clear(): void {
    this.ids.fill(NaN);
    this.columns.clear();
    this.newest = -Infinity;
  }

  /** Has this series a sample in the window ending at `now`? */
  hasData(key: string, now: number): boolean {
    const column = this.columns.get(key);
    if (!column) return false;
    const last = Math.floor(now / this.widthMs);
    for (let id = last; id > last - this.buckets; id -= 1) {
      const slot = this.slotOf(id);
      if (this.ids[slot] === id && column.count[slot]! > 0) return true;
    }
    return false;
  }

  /**
   * The means of one series in the window ending at `now`, oldest bucket first, into `out` (NaN where a
   * bucket has no sample), so a caller drawing every second reuses one array.
   */
  means(key: string, now: number, out: Float64Array = new Float64Array(this.buckets)): Float64Array {
    const column = this.columns.get(key);
    const first = Math.floor(now / this.widthMs) - this.buckets + 1;
    for (let i = 0; i < this.buckets; i += 1) {
      const slot = this.slotOf(first + i);
      const count = column && this.ids[slot] === first + i ? column.count[slot]! : 0;
      out[i] = count > 0 ? column!.sum[slot]! / count : NaN;
    }
    return out;
  }

  /** Time of the middle of the `i`-th bucket of the window ending at `now` (the newest: at most `now`). */
  timeOf(i: number, now: number): number {
    const first = Math.floor(now / this.widthMs) - this.buckets + 1;
    return Math.min(now, (first + i) * this.widthMs + this.widthMs / 2);
  }

  /**
   * The chart table of `keys` over the window ending at `now`: one row a bucket, values times `scale`,
   * `t` relative to `now` (from -windowMs to 0), so the time axis stays the same from one redraw to
   * the next (a chart whose axis changes draws its lines twice), and `at` the time itself.
   */
  table(keys: readonly string[], now: number, scale = 1): SeriesTable {
    const rows: ChartRow[] = new Array<ChartRow>(this.buckets);
    for (let i = 0; i < this.buckets; i += 1) {
      const at = this.timeOf(i, now);
      rows[i] = { t: at - now, at };
    }
    const means = new Float64Array(this.buckets);
    keys.forEach((key, c) => {
      const field = seriesField(c);
      this.means(key, now, means);
      for (let i = 0; i < this.buckets; i += 1) {
        const mean = means[i]!;
        rows[i]![field] = Number.isNaN(mean) ? null : mean * scale;
      }
    });
    return { keys, rows };
  }

  private slotOf(id: number): number {
    return ((id % this.buckets) + this.buckets) % this.buckets;
  }
}

/**
 * Merges history series (one per key, points at bucket starts) into one table; where consecutive
 * buckets are further apart than twice the bucket width, a row of nulls breaks the lines (nothing was
 * recorded there: the app was closed, or the service stopped).
 */
export function mergeSeries(
  series: readonly { key: string; points: readonly { at: number; value: number }[] }[],
  scale: (key: string) => number = () => 1,
): SeriesTable {
  const keys = series.map((s) => s.key);
  const byTime = new Map<number, ChartRow>();
  series.forEach((s, c) => {
    const factor = scale(s.key);
    for (const p of s.points) {
      let row = byTime.get(p.at);
      if (!row) {
        row = { t: p.at };
        keys.forEach((_, i) => (row![seriesField(i)] = null));
        byTime.set(p.at, row);
      }
      row[seriesField(c)] = Number.isFinite(p.value) ? p.value * factor : null;
    }
  });
  const times = [...byTime.keys()].sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < times.length; i += 1) step = Math.min(step, times[i]! - times[i - 1]!);
  const rows: ChartRow[] = [];
  times.forEach((t, i) => {
    const previous = times[i - 1];
    if (previous !== undefined && Number.isFinite(step) && t - previous > 2 * step) {
      const gap: ChartRow = { t: previous + step };
      keys.forEach((_, k) => (gap[seriesField(k)] = null));
      rows.push(gap);
    }
    rows.push(byTime.get(t)!);
  });
  return { keys, rows };
}
