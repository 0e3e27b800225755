/** The number of open alerts (neither acknowledged nor cleared), linking to them on the Events page. */
import { filtersHref } from '../lib/event-filters';
import { useAlertsStore } from '../stores/alerts';

export function OpenAlertsBadge() {
  const count = useAlertsStore((s) => Object.keys(s.open).length);
  const capped = useAlertsStore((s) => s.openCapped);
  const loaded = useAlertsStore((s) => s.openLoaded);
  if (!loaded) return null;
  const shown = capped ? `${count}+` : String(count);
  const label = count === 0 ? 'No open alerts' : `${shown} open alert${count === 1 ? '' : 's'}`;
  return (
    <a
      className="alert-badge"
      href={filtersHref({ status: 'open' })}
      data-testid="open-alerts"
      data-count={count}
      data-zero={count === 0}
      aria-label={`${label}: show them`}
      title={label}
    >
      <span className="alert-badge-count num" data-testid="open-alerts-count">
        {shown}
      </span>
      <span className="alert-badge-label">open alert{count === 1 ? '' : 's'}</span>
    </a>
  );
}
