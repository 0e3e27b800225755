import { Fragment } from 'react';
import { ErrorNote } from '../components/ErrorNote';
import { ServicesLoaded } from '../components/LoadState';
import { Page } from '../components/Page';
import { ServiceActions } from '../components/ServiceActions';
import { ServiceCells, ServiceHeaderCells } from '../components/ServiceRowCells';
import { AddServiceButton } from '../components/service/AddServiceDialog';
import { hrefFor } from '../lib/route';
import { useActionsStore } from '../stores/actions';
import { dismissRemoved, forgetOutcome, useServiceDetailStore } from '../stores/service-detail';
import { useServiceList, useServicesStore } from '../stores/services';
import { ServiceDetail } from './ServiceDetail';
import '../styles/service.css';

export function ServicesPage({ selected }: { selected: string | null }) {
  return (
    <Page id="services" title="Services" aside={<AddServiceButton />}>
      <RemovedNotice />
      <ServicesLoaded>
        <div className="split">
          <ServicesTable selected={selected} />
          <SelectedService name={selected} />
        </div>
      </ServicesLoaded>
    </Page>
  );
}

function ServicesTable({ selected }: { selected: string | null }) {
  const services = useServiceList();
  const errors = useActionsStore((s) => s.errors);
  return (
    <div className="table-wrap">
      <table className="table" data-testid="services-table">
        <thead>
          <tr>
            <ServiceHeaderCells />
            <th className="actions-col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {services.map((service) => {
            const failure = errors[service.name];
            return (
              <Fragment key={service.name}>
                <tr
                  className="clickable"
                  data-testid={`service-row-${service.name}`}
                  data-state={service.state}
                  aria-selected={service.name === selected}
                  onClick={() => (window.location.hash = hrefFor('services', service.name))}
                >
                  <ServiceCells service={service} />
                  <td className="actions-col">
                    <ServiceActions service={service} />
                  </td>
                </tr>
                {failure && (
                  <tr className="row-error">
                    <td colSpan={8}>
                      <span className="muted">{failure.action} failed: </span>
                      <ErrorNote
                        error={failure.error}
                        testId={`action-error-${service.name}`}
                        onDismiss={() => forgetOutcome(service.name)}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Says which service this window just removed (the detail it was on is gone). */
function RemovedNotice() {
  const removed = useServiceDetailStore((s) => s.removed);
  if (!removed) return null;
  return (
    <p className="svc-notice" role="status" data-testid="services-notice">
      Removed <span className="mono">{removed.name}</span>.
      <button type="button" className="btn-link" aria-label="Dismiss" onClick={dismissRemoved}>
        ×
      </button>
    </p>
  );
}

function SelectedService({ name }: { name: string | null }) {
  const service = useServicesStore((s) => (name === null ? undefined : s.byName[name]));
  if (name === null) {
    return <aside className="panel panel-hint">Select a service to see its detail.</aside>;
  }
  if (!service) {
    return (
      <aside className="panel panel-hint" data-testid="service-detail-missing">
        There is no service named “{name}”.
      </aside>
    );
  }
  return <ServiceDetail service={service} />;
}
