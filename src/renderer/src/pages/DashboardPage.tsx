/**
 * The Dashboard: the overall state and whether trading is on, the trader card, one row per service
 * with its live figures, and charts of CPU, memory and message rates (live, or from history).
 */
import { useEffect } from 'react';
import { ErrorNote } from '../components/ErrorNote';
import { Page } from '../components/Page';
import { ResourceCharts } from '../components/dashboard/ResourceCharts';
import { ServiceRows } from '../components/dashboard/ServiceRows';
import { StatusHeader } from '../components/dashboard/StatusHeader';
import { TraderCard } from '../components/dashboard/TraderCard';
import { useApi } from '../connection-context';
import { hrefFor } from '../lib/route';
import { followBus } from '../stores/chart-live';
import { useConnectionStore } from '../stores/connection';
import { useServiceList, useServicesStore } from '../stores/services';
import '../styles/dashboard.css';

export function DashboardPage() {
  const api = useApi();
  // The bus's own rates only while this page is shown (its samples carry messages: not for free).
  useEffect(() => followBus(api), [api]);
  return (
    <Page id="dashboard" title="Dashboard">
      <DashboardContent />
    </Page>
  );
}

function DashboardContent() {
  const loaded = useServicesStore((s) => s.loaded);
  const error = useServicesStore((s) => s.error);
  const names = useServicesStore((s) => s.names);
  const services = useServiceList();
  const connection = useConnectionStore((s) => s.status.state);

  if (error && !loaded) {
    return (
      <div className="dash-problem-state" data-testid="dashboard-error">
        <ErrorNote error={error} testId="services-error" />
        <p className="muted">
          Vigil could not list the services. It asks again whenever the connection comes back; if this stays,
          check the connection indicator above and the log of the Vigil process.
        </p>
      </div>
    );
  }
  if (!loaded) {
    return (
      <p className="empty" data-testid="dashboard-loading">
        {connection === 'connected'
          ? 'Loading services…'
          : 'Connecting to Vigil… the services appear once connected.'}
      </p>
    );
  }
  if (services.length === 0) {
    return (
      <>
        <StatusHeader services={services} />
        <TraderCard services={services} />
        <p className="empty" data-testid="dashboard-empty">
          No services are configured. Add one in <a href={hrefFor('services')}>Services</a> (a collector, the
          optimizer, a trader or any command), or import a configuration in{' '}
          <a href={hrefFor('settings')}>Settings</a>; it shows here with its state, resources and history.
        </p>
      </>
    );
  }
  return (
    <>
      <StatusHeader services={services} />
      <TraderCard services={services} />
      <h2 className="section-title">Services</h2>
      <ServiceRows services={services} names={names} />
      <ResourceCharts names={names} />
    </>
  );
}
