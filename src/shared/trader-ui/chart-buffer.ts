/**
 * The trader's live equity and P&L charts as bounded data: a ring of clock-aligned time buckets,
 * allocated whole up front, keeping the last value of each series in each bucket (equity is a level,
 * not a rate: the bucket's last figure is the one that stood at its end). A table always has
 * `buckets` rows with `t` relative to the newest time, so the chart's time axis never changes between
 * redraws, as on the Dashboard. A bucket without a snapshot (the trader stopped, the connection was
 * lost) is a break in the lines.
 *
 * In src/shared only so plain Node tests can import it; only the renderer uses it.
 */
import type { TraderEquityPoint, TraderSnapshot } from '../trader-api';

export const chartSeries = ['equity', 'total', 'realized', 'unrealized'] as const;
export type ChartSeries = (typeof chartSeries)[number];

export type ChartPoint = Record<ChartSeries, number>;

/** A chart row: `t` on the axis (relative for live rows), `at` the time itself, a value per series. */
export type TraderChartRow = { t: number; at: number } & Record<ChartSeries, number | null>;

export function pointOfSnapshot(s: TraderSnapshot): ChartPoint {
  const a = s.account;
  return {
    equity: a.equity,
    total: a.equity - a.initialEquity,
    realized: a.realizedPnl,
    unrealized: a.unrealizedPnl,
  };
}

export function pointOfEquity(p: TraderEquityPoint, initialEquity: number): ChartPoint {
  return {
    equity: p.equity,
    total: p.equity - initialEquity,
    realized: p.realizedPnl,
    unrealized: p.unrealizedPnl,
  };
}

export class LastValueRing {
  /** The bucket number (time / width) each slot holds; NaN: empty. */
  private readonly ids: Float64Array;
  private readonly values: Record<ChartSeries, Float64Array>;
  private newest = -Infinity;

  constructor(
    readonly buckets: number,
    readonly widthMs: number,
  ) {
    if (!Number.isInteger(buckets) || buckets < 2) throw new Error('buckets must be a whole number ≥ 2');
    if (!(widthMs > 0)) throw new Error('widthMs must be more than 0');
    this.ids = new Float64Array(buckets).fill(NaN);
    this.values = {
      equity: new Float64Array(buckets),
      total: new Float64Array(buckets),
      realized: new Float64Array(buckets),
      unrealized: new Float64Array(buckets),
    };
  }

  get windowMs(): number {
    return this.buckets * this.widthMs;
  }

  /** The time of the newest bucket's start, or null when empty. */
  get newestBucketAt(): number | null {
    return Number.isFinite(this.newest) ? this.newest * this.widthMs : null;
  }

  /** Puts a point in its bucket (the latest within a bucket wins); points older than the ring are dropped. */
  push(at: number, point: ChartPoint): void {
    if (!Number.isFinite(at)) return;
    const id = Math.floor(at / this.widthMs);
    if (id <= this.newest - this.buckets) return;
    const slot = this.slotOf(id);
    this.ids[slot] = id;
    for (const key of chartSeries) {
      const v = point[key];
      this.values[key][slot] = Number.isFinite(v) ? v : NaN;
    }
    this.newest = Math.max(this.newest, id);
  }

  /**
   * Puts a recorded point in its bucket only when the bucket is empty: history read when a chart
   * opens fills the window's past without overwriting the live figures already received.
   */
  fill(at: number, point: ChartPoint): void {
    if (!Number.isFinite(at)) return;
    const id = Math.floor(at / this.widthMs);
    if (this.ids[this.slotOf(id)] === id) return;
    this.push(at, point);
  }

  clear(): void {
    this.ids.fill(NaN);
    this.newest = -Infinity;
  }

  /**
   * Rows of the window ending at `now`, oldest first; `t` is the bucket's middle minus `now`. Empty
   * buckets between two points at most `holdMs` apart hold the earlier point's values (a level stands
   * until it changes, and a trader reports only so often: recorded history has a point every 5 s);
   * longer gaps are breaks in the lines.
   */
  rows(now: number, holdMs = 0): TraderChartRow[] {
    const last = Math.floor(now / this.widthMs);
    const first = last - this.buckets + 1;
    const holdBuckets = Math.floor(holdMs / this.widthMs);
    const rows = new Array<TraderChartRow>(this.buckets);
    let previous = -1; // index of the last filled bucket
    for (let i = 0; i < this.buckets; i += 1) {
      const id = first + i;
      const slot = this.slotOf(id);
      const at = Math.min(now, id * this.widthMs + this.widthMs / 2);
      const has = this.ids[slot] === id;
      const row = { t: at - now, at } as TraderChartRow;
      for (const key of chartSeries) {
        const v = has ? this.values[key][slot]! : NaN;
        row[key] = Number.isNaN(v) ? null : v;
      }
      rows[i] = row;
      if (!has) continue;
      if (previous >= 0 && i - previous > 1 && i - previous <= holdBuckets) {
        for (let k = previous + 1; k < i; k += 1) {
          for (const key of chartSeries) rows[k]![key] = rows[previous]![key]!;
        }
      }
      previous = i;
    }
    return rows;
  }

  /** How many buckets of the window ending at `now` hold a point. */
  filled(now: number): number {
    const last = Math.floor(now / this.widthMs);
    let n = 0;
    for (let id = last - this.buckets + 1; id <= last; id += 1) if (this.ids[this.slotOf(id)] === id) n += 1;
    return n;
  }

  private slotOf(id: number): number {
    return ((id % this.buckets) + this.buckets) % this.buckets;
  }
}

/**
 * Recorded equity points as chart rows (absolute `t`), with a row of nulls wherever two points are
 * much further apart than usual (the trader was stopped there), so the line breaks instead of
 * drawing a straight bridge over time nothing was recorded.
 */
export function historyRows(points: readonly TraderEquityPoint[], initialEquity: number): TraderChartRow[] {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const steps: number[] = [];
  for (let i = 1; i < sorted.length; i += 1) steps.push(sorted[i]!.t - sorted[i - 1]!.t);
  const usual = median(steps);
  const rows: TraderChartRow[] = [];
  sorted.forEach((p, i) => {
    const previous = sorted[i - 1];
    if (previous !== undefined && usual > 0 && p.t - previous.t > 3 * usual) {
      rows.push({ t: previous.t + usual, at: previous.t + usual, ...nulls });
    }
    rows.push({ t: p.t, at: p.t, ...pointOfEquity(p, initialEquity) });
  });
  return rows;
}

const nulls: Record<ChartSeries, null> = { equity: null, total: null, realized: null, unrealized: null };

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
