/**
 * The Trader page: every trader service as a tab, the chosen one in the address (#/trader/<name>, so
 * it survives a reload and can be linked). A trader run by the built-in trader program shows all of
 * itself (TraderView); a custom trader command answers no trader commands, so only its state shows.
 */
import { useMemo } from 'react';
import { ServicesLoaded } from '../components/LoadState';
import { Page } from '../components/Page';
import { StateBadge } from '../components/StateBadge';
import { TraderView } from '../components/trader/TraderView';
import { hrefFor } from '../lib/route';
import { traderMode } from '../../../shared/service-status';
import { modeBadge } from '../../../shared/trader-ui/format';
import { useServiceList } from '../stores/services';
import { isTraderProgram } from '../stores/trader';
import '../styles/dashboard.css';
import '../styles/trader.css';

export function TraderPage({ param }: { param: string | null }) {
  return (
    <Page id="trader" title="Trader">
      <ServicesLoaded>
        <Traders param={param} />
      </ServicesLoaded>
    </Page>
  );
}

function Traders({ param }: { param: string | null }) {
  const services = useServiceList();
  const traders = useMemo(() => services.filter((s) => s.kind === 'trader'), [services]);
  if (traders.length === 0) {
    return (
      <p className="empty" data-testid="trader-none">
        No trader is configured. Add a service of kind <strong>trader</strong> running the built-in{' '}
        <code>trader</code> program in <a href={hrefFor('services')}>Services</a>, with its venue, symbols,
        strategy and risk limits in its configuration. It trades on paper, and never starts by itself: you
        start it here or on the Dashboard.
      </p>
    );
  }
  const chosen = traders.find((t) => t.name === param) ?? traders[0]!;
  return (
    <>
      {traders.length > 1 && (
        <nav className="trader-tabs" aria-label="Traders" data-testid="trader-tabs">
          {traders.map((t) => {
            const mode = traderMode(t).mode;
            return (
              <a
                key={t.name}
                className="trader-tab"
                href={hrefFor('trader', t.name)}
                aria-current={t.name === chosen.name ? 'page' : undefined}
                data-testid={`trader-tab-${t.name}`}
              >
                <span className="mono">{t.name}</span>
                <span className="trader-mode trader-mode-small" data-mode={mode}>
                  {modeBadge(mode)}
                </span>
                <StateBadge state={t.state} />
              </a>
            );
          })}
        </nav>
      )}
      {isTraderProgram(chosen) ? (
        <TraderView key={chosen.name} service={chosen} />
      ) : (
        <p className="empty" data-testid="trader-custom">
          <strong>{chosen.name}</strong> runs its own command, not the built-in trader program, so it reports
          no positions, orders or P&amp;L to Vigil. Start and stop it on the{' '}
          <a href={hrefFor('dashboard')}>Dashboard</a>; its log and state are in{' '}
          <a href={hrefFor('services', chosen.name)}>Services</a>.
        </p>
      )}
    </>
  );
}
