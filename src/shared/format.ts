/** Formatting of times and durations for dense tables (the UI and the CLI): short, fixed-width where it matters. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** 42s · 4m 05s · 2h 03m · 3d 04h */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${pad(h % 24)}h`;
}

/** Local wall-clock time with the date: 2025-11-22 13:37:05 */
export function formatTimestamp(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "1.2 s ago" with one decimal under a minute, where heartbeat freshness matters. */
export function formatAge(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s ago`;
  return `${formatDuration(ms)} ago`;
}

/** Short spans such as start-to-ready: 312 ms · 1.4 s · then as a duration. */
export function formatLatency(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatDuration(ms);
}
