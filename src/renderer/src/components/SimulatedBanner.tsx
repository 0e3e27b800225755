/**
 * Above every page while any market data comes from the simulator (`--demo`, or a collector whose
 * configuration says `simulated`): nobody should mistake synthetic prices for the market.
 */
import { useMemo } from 'react';
import { useAppInfoStore } from '../stores/app-info';
import { useServicesStore } from '../stores/services';

export function SimulatedBanner() {
  const demo = useAppInfoStore((s) => s.info?.demo ?? false);
  // Select the store's own (stable) objects and derive here: a selector returning a fresh array
  // would re-render forever.
  const names = useServicesStore((s) => s.names);
  const byName = useServicesStore((s) => s.byName);
  const simulated = useMemo(
    () =>
      names.filter(
        (n) => (byName[n]?.definition.config as { simulated?: unknown } | null)?.simulated === true,
      ),
    [names, byName],
  );
  if (!demo && simulated.length === 0) return null;
  return (
    <div className="banner banner-sim" data-testid="simulated-banner" role="status">
      <span className="banner-text">
        <strong>SIMULATED MARKET DATA.</strong>{' '}
        <span>
          {simulated.length > 0
            ? `${simulated.join(', ')} ${simulated.length === 1 ? 'reads' : 'read'} the built-in market simulator, not an exchange.`
            : 'Vigil runs in demo mode: market data comes from the built-in simulator, not an exchange.'}
        </span>
      </span>
    </div>
  );
}
