/**
 * A service's CPU (solid, in its colour) and memory (dashed) over the live window, drawn as plain SVG
 * from the live rings' bucket means: one row costs two short paths, redrawn once a point, so a table
 * of them stays cheap.
 */
import { memo, useMemo } from 'react';
import { formatBytes, formatCpu } from '../../lib/dashboard-format';
import type { BucketRing } from '../../lib/dashboard-series';
import { liveRings, useChartLiveStore } from '../../stores/chart-live';

const W = 100;
const H = 28;
const PAD = 2;

interface Line {
  d: string;
  points: number;
  last: number | null;
  max: number | null;
}

/** Scratch for the means of one series: the sparklines draw one after another, never at once. */
const scratch = new Float64Array(liveRings.cpu.buckets);

/**
 * An SVG path through the series' bucket means, broken where a bucket is empty; y from `lo` (bottom)
 * to `hi` (`hi` null: the series' own range, padded by `pad` of it and at least `minPad`).
 */
function linePath(
  ring: BucketRing,
  name: string,
  at: number,
  lo: number | null,
  hiAtLeast: number | null,
  pad: number,
  minPad: number,
): Line {
  const v = ring.means(name, at, scratch);
  let last: number | null = null;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < v.length; i += 1) {
    const value = v[i]!;
    if (Number.isNaN(value)) continue;
    last = value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (last === null) return { d: '', points: 0, last: null, max: null };
  const spread = Math.max((max - min) * pad, minPad);
  const bottom = lo ?? Math.max(0, min - spread);
  const top = hiAtLeast !== null ? Math.max(hiAtLeast, max) : max + spread;
  const range = top - bottom || 1;
  const from = at - ring.windowMs;
  const span = ring.windowMs;
  const parts: string[] = [];
  let pen = false;
  let points = 0;
  for (let i = 0; i < v.length; i += 1) {
    const value = v[i]!;
    if (Number.isNaN(value)) {
      pen = false;
      continue;
    }
    const x = PAD + ((ring.timeOf(i, at) - from) / span) * (W - 2 * PAD);
    const y = H - PAD - ((value - bottom) / range) * (H - 2 * PAD);
    parts.push(`${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`);
    pen = true;
    points += 1;
  }
  // join: one flat string (a string built with += keeps every piece while the row is shown).
  return { d: parts.join(''), points, last, max };
}

/** Memoized: its row re-renders at every sample for the other figures, the line only changes a point. */
export const Sparkline = memo(function Sparkline({ name, color }: { name: string; color: string }) {
  const at = useChartLiveStore((s) => s.drawnAt);
  const lines = useMemo(() => {
    if (at === null) return null;
    // CPU from zero, at least to 10 % so an idle service looks idle; memory across its own range
    // (padded), where its trend shows.
    return {
      cpu: linePath(liveRings.cpu, name, at, 0, 10, 0, 0),
      rss: linePath(liveRings.rss, name, at, null, null, 0.15, 2 ** 20),
    };
  }, [at, name]);

  const points = lines ? lines.cpu.points + lines.rss.points : 0;
  const label =
    !lines || points === 0
      ? `${name}: no CPU or memory samples in the last 5 minutes`
      : `${name} over the last 5 minutes: CPU now ${lines.cpu.last === null ? 'unknown' : formatCpu(lines.cpu.last)}` +
        `${lines.cpu.max === null ? '' : `, at most ${formatCpu(lines.cpu.max)}`}; memory now ` +
        `${lines.rss.last === null ? 'unknown' : formatBytes(lines.rss.last)}` +
        `${lines.rss.max === null ? '' : `, at most ${formatBytes(lines.rss.max)}`}`;
  return (
    <svg
      className="sparkline"
      data-testid={`sparkline-${name}`}
      data-points={points}
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      {lines && lines.rss.d && (
        <path className="sparkline-mem" d={lines.rss.d} data-testid={`sparkline-mem-${name}`} />
      )}
      {lines && lines.cpu.d && (
        <path
          className="sparkline-cpu"
          d={lines.cpu.d}
          stroke={color}
          data-testid={`sparkline-cpu-${name}`}
        />
      )}
    </svg>
  );
});
