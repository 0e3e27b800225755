/** Short figures for the Dashboard's bars, axes and tooltips. */

const MB = 2 ** 20;
const GB = 2 ** 30;

/** 512 MB · 1.25 GB (binary units, as the rest of the UI: 1 MB = 2^20 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes >= GB) return `${(bytes / GB).toFixed(2)} GB`;
  if (bytes >= 100 * MB) return `${(bytes / MB).toFixed(0)} MB`;
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** An axis value already in MB. */
export function formatMegabytes(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb.toFixed(mb >= 100 ? 0 : 1)} MB`;
}

export function formatCpu(percent: number): string {
  return `${percent.toFixed(percent >= 100 ? 0 : 1)} %`;
}

/** Messages per second: 12.3/s · 4.5k/s · 1.2M/s */
export function formatRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(1)}M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)}k/s`;
  return `${perSec.toFixed(perSec >= 100 ? 0 : 1)}/s`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Axis ticks: seconds for the live window, minutes within a day, the date beyond. */
export function formatTick(at: number, rangeMs: number): string {
  const d = new Date(at);
  if (rangeMs <= 10 * 60_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (rangeMs <= 26 * 3_600_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}h`;
}

export function formatTooltipTime(at: number): string {
  const d = new Date(at);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

const tickSteps = [
  10_000,
  30_000,
  60_000,
  2 * 60_000,
  5 * 60_000,
  10 * 60_000,
  15 * 60_000,
  30 * 60_000,
  3_600_000,
  2 * 3_600_000,
  3 * 3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
  86_400_000,
];

/** Round times within [from, to] for an axis: about `target` of them, on whole local minutes/hours/days. */
export function timeTicks(from: number, to: number, target = 6): number[] {
  const span = to - from;
  if (!(span > 0)) return [];
  const step = tickSteps.find((s) => span / s <= target) ?? tickSteps.at(-1)!;
  // Local time: a tick on a whole hour or day is on the clock's, not UTC's.
  const offset = -new Date(from).getTimezoneOffset() * 60_000;
  const first = Math.ceil((from + offset) / step) * step - offset;
  const ticks: number[] = [];
  for (let t = first; t <= to; t += step) ticks.push(t);
  return ticks;
}
