/**
 * The top of the Dashboard: the overall state in words and colour, whether trading is on (loud when
 * it is), the number of services in each state and the open alerts.
 */
import { useMemo } from 'react';
import type { ServiceInfo, ServiceState } from '../../../../shared/services';
import { serviceStates } from '../../../../shared/services';
import { overallStatus, isTrading, traderMode } from '../../../../shared/service-status';
import { filtersHref } from '../../lib/event-filters';
import { hrefFor } from '../../lib/route';
import { stateTone } from '../../lib/service-state';
import { useAlertsStore } from '../../stores/alerts';
import { useChartLiveStore } from '../../stores/chart-live';

/** Problems listed by name in the header; the rest are counted. */
const SHOWN_PROBLEMS = 3;

export function StatusHeader({ services }: { services: readonly ServiceInfo[] }) {
  return (
    <section className="dash-status" aria-label="Overall state">
      <div className="dash-status-top">
        <OverallState services={services} />
        <TradingIndicator services={services} />
      </div>
      <StateCounts services={services} />
    </section>
  );
}

function OverallState({ services }: { services: readonly ServiceInfo[] }) {
  const overSoftLimit = useChartLiveStore((s) => s.overSoftLimit);
  const status = useMemo(() => overallStatus(services, overSoftLimit), [services, overSoftLimit]);
  const shown = status.problems.slice(0, SHOWN_PROBLEMS);
  const more = status.problems.length - shown.length;
  return (
    <div className="dash-overall" data-testid="dashboard-overall" data-level={status.level}>
      <i className="dash-overall-mark" aria-hidden="true" />
      <div className="dash-overall-text">
        {/* Announced when it changes, so a screen reader hears "Failing" as it happens. */}
        <div className="dash-overall-label" data-testid="dashboard-overall-label" aria-live="polite">
          {status.label}
        </div>
        <div className="dash-overall-detail" data-testid="dashboard-overall-detail">
          {status.problems.length === 0 ? (
            <span className="muted">
              {status.level === 'empty'
                ? 'Add a service in Services to supervise it here.'
                : 'Every service that runs is healthy.'}
            </span>
          ) : (
            <>
              {shown.map((p, i) => (
                <span key={p.name}>
                  {i > 0 && <span className="sep"> · </span>}
                  <a href={hrefFor('services', p.name)} className="dash-problem">
                    {p.name}
                  </a>
                  <span className="muted">: {p.what}</span>
                </span>
              ))}
              {more > 0 && <span className="muted"> · and {more} more</span>}
            </>
          )}
        </div>
      </div>
    </div>
  );
}

function TradingIndicator({ services }: { services: readonly ServiceInfo[] }) {
  const trading = useMemo(() => services.filter(isTrading), [services]);
  const hasTrader = services.some((s) => s.kind === 'trader');
  if (trading.length === 0) {
    return (
      <div className="dash-trading" data-testid="trading-indicator" data-on="false" role="status">
        <span className="dash-trading-label">Trading off</span>
        <span className="muted">{hasTrader ? 'no trader is running' : 'no trader configured'}</span>
      </div>
    );
  }
  const modes = trading.map((t) => traderMode(t).mode);
  const mode = modes.includes('live') ? 'live' : modes.includes('unknown') ? 'unknown' : 'paper';
  return (
    <div
      className="dash-trading"
      data-testid="trading-indicator"
      data-on="true"
      data-mode={mode}
      role="status"
    >
      <i className="dash-trading-dot" aria-hidden="true" />
      <span className="dash-trading-label">Trading on</span>
      <span className="dash-trading-who">
        {trading.map((t, i) => (
          <span key={t.name}>
            {i > 0 && ', '}
            {t.name} <span className="dash-trading-mode">({traderMode(t).label})</span>
          </span>
        ))}
      </span>
    </div>
  );
}

function StateCounts({ services }: { services: readonly ServiceInfo[] }) {
  const counts = useMemo(() => {
    const c = Object.fromEntries(serviceStates.map((s) => [s, 0])) as Record<ServiceState, number>;
    for (const s of services) c[s.state] += 1;
    return c;
  }, [services]);
  return (
    <div className="tiles dash-tiles" data-testid="state-counts">
      <div className="tile">
        <div className="tile-value num" data-testid="count-total">
          {services.length}
        </div>
        <div className="tile-label">services</div>
      </div>
      {serviceStates.map((state) => (
        <div className="tile" key={state} data-tone={stateTone[state]} data-zero={counts[state] === 0}>
          <div className="tile-value num" data-testid={`count-${state}`}>
            {counts[state]}
          </div>
          <div className="tile-label">{state}</div>
        </div>
      ))}
      <OpenAlertsTile />
    </div>
  );
}

function OpenAlertsTile() {
  const count = useAlertsStore((s) => Object.keys(s.open).length);
  const capped = useAlertsStore((s) => s.openCapped);
  const loaded = useAlertsStore((s) => s.openLoaded);
  const shown = !loaded ? '…' : capped ? `${count}+` : String(count);
  return (
    <a
      className="tile dash-alerts-tile"
      href={filtersHref({ status: 'open' })}
      data-tone={count > 0 ? 'bad' : undefined}
      data-zero={count === 0}
      data-testid="dashboard-open-alerts"
      data-count={count}
      aria-label={
        loaded ? `${shown} open alert${count === 1 ? '' : 's'}: show them` : 'Open alerts: loading, show them'
      }
    >
      <div className="tile-value num">{shown}</div>
      <div className="tile-label">open alerts</div>
    </a>
  );
}
