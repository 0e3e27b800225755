/**
 * Market data health: a matrix of venue × symbol × data type from the figures each collector reports
 * every second (rate, freshness against its stale limit, exchange→local latency, gaps, resyncs), the
 * gap ledger the collectors record, and one chosen symbol up close (live top of book, price chart,
 * funding, open interest, DVOL, liquidations). While this page is open the core carries the top of
 * book (the `market.top` event); it stops when the page closes.
 */
import { useMemo } from 'react';
import type { Venue } from '../../../shared/market';
import type { ServiceInfo } from '../../../shared/services';
import { ServicesLoaded } from '../components/LoadState';
import { GapLedger } from '../components/market/GapLedger';
import { FreshnessLegend, HealthMatrix } from '../components/market/HealthMatrix';
import { SymbolPanel, type SymbolChoice } from '../components/market/SymbolPanel';
import { Page } from '../components/Page';
import { useApi } from '../connection-context';
import { collectorSpecs } from '../lib/market-health';
import { hrefFor } from '../lib/route';
import { useMarketTopFeed } from '../stores/market-top';
import { useServiceList } from '../stores/services';
import '../styles/market.css';

export function MarketPage() {
  return (
    <Page id="market" title="Market" aside={<FreshnessLegend />}>
      <ServicesLoaded>
        <MarketBody />
      </ServicesLoaded>
    </Page>
  );
}

function MarketBody() {
  const services = useServiceList();
  const collectors = useMemo(() => services.filter((s) => s.kind === 'collector'), [services]);
  if (collectors.length === 0)
    return (
      <p className="empty" data-testid="market-empty">
        No collectors are configured: add one in <a href={hrefFor('services')}>Services</a> to see its streams
        here, or start Vigil with <code>--demo</code> to watch simulated markets.
      </p>
    );
  return <Market collectors={collectors} />;
}

function Market({ collectors }: { collectors: ServiceInfo[] }) {
  const api = useApi();
  // Subscribing is what makes the core carry top of book: only while this page is open.
  useMarketTopFeed(api);
  const running = collectors.filter((c) => c.state === 'running' || c.state === 'paused');
  const specs = useMemo(
    () =>
      collectors.flatMap((c) =>
        collectorSpecs(c).flatMap((spec) => (spec.venue ? [{ service: c, spec, venue: spec.venue }] : [])),
      ),
    [collectors],
  );
  const choices = useMemo<SymbolChoice[]>(() => {
    const byVenue = new Map<Venue, SymbolChoice>();
    for (const { spec, venue } of specs) {
      const known = byVenue.get(venue);
      byVenue.set(venue, {
        venue,
        symbols: [...new Set([...(known?.symbols ?? []), ...spec.symbols])],
        simulated: (known?.simulated ?? false) || spec.simulated,
      });
    }
    return [...byVenue.values()];
  }, [specs]);
  const symbolsByVenue = useMemo(() => new Map(choices.map((c) => [c.venue, c.symbols] as const)), [choices]);
  const collectorNames = useMemo(() => collectors.map((c) => c.name), [collectors]);

  return (
    <div className="market">
      {running.length === 0 && (
        <p className="banner banner-warn market-idle" data-testid="market-idle" role="status">
          No collector is running, so no market data is arriving: start them in{' '}
          <a href={hrefFor('services')}>Services</a>. The figures below are what they last recorded.
        </p>
      )}
      <section className="market-section">
        <h2 className="section-title">Streams</h2>
        <HealthMatrix collectors={collectors} />
      </section>
      <SymbolPanel choices={choices} />
      <GapLedger collectorNames={collectorNames} symbolsByVenue={symbolsByVenue} />
    </div>
  );
}
