import { formatAge, formatDuration } from '../lib/format';
import { useNow } from '../lib/clock';

/** Time since `since`, ticking every second; a dash when there is no start time. */
export function Uptime({ since }: { since: number | null }) {
  const now = useNow();
  if (since === null) return <span className="muted">—</span>;
  return <span className="num">{formatDuration(now - since)}</span>;
}

/** "1.2 s ago", flagged once older than `staleAfterMs`. */
export function Age({ at, staleAfterMs }: { at: number | null; staleAfterMs?: number }) {
  const now = useNow();
  if (at === null) return <span className="muted">—</span>;
  const age = now - at;
  const stale = staleAfterMs !== undefined && age > staleAfterMs;
  return <span className={stale ? 'num text-warn' : 'num'}>{formatAge(age)}</span>;
}

/** Time left until `at` ("in 4 s"), ticking every second; a dash when nothing is scheduled. */
export function Countdown({ at }: { at: number | null }) {
  const now = useNow();
  if (at === null) return <span className="muted">—</span>;
  return <span className="num">in {formatDuration(Math.max(0, at - now))}</span>;
}
