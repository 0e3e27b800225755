import { useMemo } from 'react';
import type { ServiceState } from '../../../shared/services';
import { serviceStates } from '../../../shared/services';
import { Page } from '../components/Page';
import { ServicesLoaded } from '../components/LoadState';
import { ServiceCells, ServiceHeaderCells } from '../components/ServiceRowCells';
import { hrefFor } from '../lib/route';
import { stateTone } from '../lib/service-state';
import { useServiceList } from '../stores/services';

export function DashboardPage() {
  return (
    <Page id="dashboard" title="Dashboard">
      <ServicesLoaded>
        <StateCounts />
        <h2 className="section-title">Services</h2>
        <ServiceOverview />
      </ServicesLoaded>
    </Page>
  );
}

function StateCounts() {
  const services = useServiceList();
  const counts = useMemo(() => {
    const c = Object.fromEntries(serviceStates.map((s) => [s, 0])) as Record<ServiceState, number>;
    for (const s of services) c[s.state] += 1;
    return c;
  }, [services]);
  return (
    <div className="tiles" data-testid="state-counts">
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
    </div>
  );
}

function ServiceOverview() {
  const services = useServiceList();
  return (
    <table className="table">
      <thead>
        <tr>
          <ServiceHeaderCells />
        </tr>
      </thead>
      <tbody>
        {services.map((service) => (
          <tr
            key={service.name}
            className="clickable"
            data-testid={`dashboard-row-${service.name}`}
            data-state={service.state}
            onClick={() => (window.location.hash = hrefFor('services', service.name))}
          >
            <ServiceCells service={service} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
