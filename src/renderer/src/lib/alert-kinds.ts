/** Alert display helpers; each kind's name is decided in src/shared/services (alertKindLabel). */

/** Local wall-clock time of day: 13:37:05 (notifications are about now; the date is implied). */
export function formatTimeOfDay(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
