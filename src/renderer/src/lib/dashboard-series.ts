/**
 * Chart data for the Dashboard as plain, bounded structures outside React: a ring of samples (one
 * time column, one column per series) that never grows past its capacity, and the row tables the
 * charts draw. Pure, so the store around it stays small.
 */

/** One chart row: the time and one value per series (`s0`, `s1`, ... in the order of `keys`). */
export interface ChartRow {
  t: number;
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
 * Fixed-capacity time series: pushing past the capacity overwrites the oldest sample. A missing value
 * is NaN (drawn as a break in the line).
 */
export class SeriesRing {
  private times: Float64Array;
  private readonly columns = new Map<string, Float64Array>();
  /** Index of the oldest sample. */
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the newest sample, or null when empty. */
  get lastTime(): number | null {
    return this.count === 0 ? null : this.times[this.slot(this.count - 1)]!;
  }

  keys(): string[] {
    return [...this.columns.keys()];
  }

  /** Appends one sample; keys not named get NaN, new keys get a column (NaN before now). */
  push(at: number, values: Readonly<Record<string, number | null | undefined>>): void {
    const index = this.count < this.capacity ? this.slot(this.count) : this.head;
    this.times[index] = at;
    for (const column of this.columns.values()) column[index] = NaN;
    for (const [key, value] of Object.entries(values)) {
      let column = this.columns.get(key);
      if (!column) {
        column = new Float64Array(this.capacity).fill(NaN);
        this.columns.set(key, column);
      }
      column[index] = typeof value === 'number' && Number.isFinite(value) ? value : NaN;
    }
    if (this.count < this.capacity) this.count += 1;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** Forgets a series (a removed service). */
  drop(key: string): void {
    this.columns.delete(key);
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.columns.clear();
  }

  /** Has this series any value at or after `since`? */
  hasData(key: string, since = -Infinity): boolean {
    const column = this.columns.get(key);
    if (!column) return false;
    for (let i = this.count - 1; i >= 0; i -= 1) {
      const slot = this.slot(i);
      if (this.times[slot]! < since) return false;
      if (!Number.isNaN(column[slot]!)) return true;
    }
    return false;
  }

  /** The values of one series from `since` on, oldest first (NaN where missing), with their times. */
  values(key: string, since = -Infinity): { t: number[]; v: number[] } {
    const column = this.columns.get(key);
    const t: number[] = [];
    const v: number[] = [];
    for (let i = this.firstIndexSince(since); i < this.count; i += 1) {
      const slot = this.slot(i);
      t.push(this.times[slot]!);
      v.push(column ? column[slot]! : NaN);
    }
    return { t, v };
  }

  /** The chart table of `keys` from `since` on, values mapped through `scale`. */
  table(keys: readonly string[], since = -Infinity, scale = 1): SeriesTable {
    const columns = keys.map((k) => this.columns.get(k));
    const rows: ChartRow[] = [];
    for (let i = this.firstIndexSince(since); i < this.count; i += 1) {
      const slot = this.slot(i);
      const row: ChartRow = { t: this.times[slot]! };
      columns.forEach((column, c) => {
        const value = column ? column[slot]! : NaN;
        row[seriesField(c)] = Number.isNaN(value) ? null : value * scale;
      });
      rows.push(row);
    }
    return { keys, rows };
  }

  private slot(i: number): number {
    return (this.head + i) % this.capacity;
  }

  private firstIndexSince(since: number): number {
    if (since === -Infinity) return 0;
    // Times only grow: binary search for the first at or after `since`.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[this.slot(mid)]! < since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
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
