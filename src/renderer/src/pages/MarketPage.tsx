/**
 * Market data health, per collector and stream: rate, freshness, exchange→local latency, gaps and
 * resyncs, from the figures each collector reports every second (its metrics) — never the stream.
 */
import { useMemo } from 'react';
import type { ServiceInfo } from '../../../shared/services';
import { Page } from '../components/Page';
import { ServicesLoaded } from '../components/LoadState';
import { StateBadge } from '../components/StateBadge';
import { formatLatency } from '../lib/format';
import { useLiveMetricsStore } from '../stores/live-metrics';
import { useServiceList } from '../stores/services';

export function MarketPage() {
  return (
    <Page id="market" title="Market">
      <ServicesLoaded>
        <Collectors />
      </ServicesLoaded>
    </Page>
  );
}

function Collectors() {
  const services = useServiceList();
  const collectors = useMemo(() => services.filter((s) => s.kind === 'collector'), [services]);
  if (collectors.length === 0)
    return (
      <p className="empty" data-testid="market-empty">
        No collectors are configured: add one in Services to see its streams here.
      </p>
    );
  return (
    <>
      {collectors.map((c) => (
        <Collector key={c.name} service={c} />
      ))}
    </>
  );
}

interface StreamRow {
  stream: string;
  perSec: number;
  freshnessMs: number | undefined;
  latencyMs: number | undefined;
  gaps: number;
  resyncs: number;
}

/** `BTCUSDT.book.msgPerSec`, `BTCUSDT.book.gaps`, ... → one row per `BTCUSDT.book`. */
function streamRows(metrics: Record<string, number> | null): StreamRow[] {
  if (!metrics) return [];
  const rows: StreamRow[] = [];
  for (const key of Object.keys(metrics)) {
    if (!key.endsWith('.msgPerSec')) continue;
    const stream = key.slice(0, -'.msgPerSec'.length);
    rows.push({
      stream,
      perSec: metrics[key]!,
      freshnessMs: metrics[`${stream}.freshnessMs`],
      latencyMs: metrics[`${stream}.latencyMs`],
      gaps: metrics[`${stream}.gaps`] ?? 0,
      resyncs: metrics[`${stream}.resyncs`] ?? 0,
    });
  }
  return rows.sort((a, b) => a.stream.localeCompare(b.stream));
}

function Collector({ service }: { service: ServiceInfo }) {
  // The 1 Hz metrics event; the figures in the service list are only as fresh as its last event.
  const live = useLiveMetricsStore((s) => s.byService[service.name]);
  const metrics = live ?? service.metrics;
  const rows = useMemo(() => streamRows(metrics), [metrics]);
  const simulated = (service.definition.config as { simulated?: unknown } | null)?.simulated === true;
  return (
    <section className="market-collector" data-testid={`collector-${service.name}`}>
      <h2 className="section-title">
        {service.name} <StateBadge state={service.state} />
        {service.health && service.health !== 'healthy' && <span className="muted"> {service.health}</span>}
        {simulated && <span className="tag">simulated</span>}
      </h2>
      {service.healthReason && <p className="muted">{service.healthReason}</p>}
      {rows.length === 0 ? (
        <p className="empty">No stream figures yet: they arrive every second while the collector runs.</p>
      ) : (
        <table className="table" data-testid="market-streams">
          <thead>
            <tr>
              <th>stream</th>
              <th className="num">msg/s</th>
              <th className="num">last message</th>
              <th className="num">latency</th>
              <th className="num">gaps</th>
              <th className="num">resyncs</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.stream} data-testid={`stream-${service.name}-${r.stream}`}>
                <td className="mono">{r.stream}</td>
                <td className="num" data-testid="stream-rate">
                  {r.perSec.toFixed(1)}
                </td>
                <td className="num">
                  {r.freshnessMs === undefined ? '—' : `${formatLatency(r.freshnessMs)} ago`}
                </td>
                <td className="num">{r.latencyMs === undefined ? '—' : formatLatency(r.latencyMs)}</td>
                <td className="num">{r.gaps}</td>
                <td className="num">{r.resyncs}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
