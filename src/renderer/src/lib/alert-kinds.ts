/** How each alert kind is named in the UI, decided in one place (notifications and the Events page). */
import type { AlertKind } from '../../../shared/services';

export const alertKindLabel: Record<AlertKind, string> = {
  'crash-loop': 'Crash loop',
  fatal: 'Fatal: gave up',
  'memory-soft': 'Memory over soft limit',
  'memory-hard': 'Memory over hard limit',
  survivors: 'Processes survived kill',
  degraded: 'Degraded',
  unresponsive: 'Unresponsive',
  'data-gap': 'Market data gap',
};

/** Local wall-clock time of day: 13:37:05 (notifications are about now; the date is implied). */
export function formatTimeOfDay(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
