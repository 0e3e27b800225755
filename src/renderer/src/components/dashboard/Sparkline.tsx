/**
 * A service's CPU (solid, in its colour) and memory (dashed) over the live window, drawn as plain SVG
 * from the live rings: one row costs two short paths, so a table of them stays cheap at 1 Hz.
 */
import { useMemo } from 'react';
import { formatBytes, formatCpu } from '../../lib/dashboard-format';
import { LIVE_WINDOW_MS, liveRings, useChartLiveStore } from '../../stores/chart-live';

const W = 100;
const H = 28;
const PAD = 2;

interface Line {
  d: string;
  points: number;
  last: number | null;
  max: number | null;
}

/** An SVG path through the values, broken where a value is missing; y from `lo` (bottom) to `hi`. */
function linePath(t: number[], v: number[], from: number, to: number, lo: number, hi: number): Line {
  const span = Math.max(1, to - from);
  const range = hi - lo || 1;
  let d = '';
  let pen = false;
  let points = 0;
  let last: number | null = null;
  let max: number | null = null;
  for (let i = 0; i < v.length; i += 1) {
    const value = v[i]!;
    if (Number.isNaN(value)) {
      pen = false;
      continue;
    }
    const x = PAD + ((t[i]! - from) / span) * (W - 2 * PAD);
    const y = H - PAD - ((value - lo) / range) * (H - 2 * PAD);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    pen = true;
    points += 1;
    last = value;
    max = max === null ? value : Math.max(max, value);
  }
  return { d, points, last, max };
}

function finite(values: number[]): number[] {
  return values.filter((x) => !Number.isNaN(x));
}

export function Sparkline({ name, color }: { name: string; color: string }) {
  const at = useChartLiveStore((s) => s.at);
  const lines = useMemo(() => {
    if (at === null) return null;
    const from = at - LIVE_WINDOW_MS;
    const cpu = liveRings.cpu.values(name, from);
    const rss = liveRings.rss.values(name, from);
    // CPU from zero, at least to 10 % so an idle service looks idle; memory across its own range
    // (padded), where its trend shows.
    const cpuValues = finite(cpu.v);
    const cpuHi = Math.max(10, ...cpuValues);
    const rssValues = finite(rss.v);
    const rssLo = rssValues.length ? Math.min(...rssValues) : 0;
    const rssHi = rssValues.length ? Math.max(...rssValues) : 1;
    const rssPad = Math.max((rssHi - rssLo) * 0.15, 2 ** 20);
    return {
      cpu: linePath(cpu.t, cpu.v, from, at, 0, cpuHi),
      rss: linePath(rss.t, rss.v, from, at, Math.max(0, rssLo - rssPad), rssHi + rssPad),
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
}
