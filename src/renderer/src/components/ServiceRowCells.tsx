/** The cells every service table shares, so Dashboard and Services show a service the same way. */
import type { ServiceInfo } from '../../../shared/services';
import { hrefFor } from '../lib/route';
import { isUp } from '../../../shared/service-actions';
import { Uptime } from './Elapsed';
import { StateBadge } from './StateBadge';

export function ServiceHeaderCells() {
  return (
    <>
      <th>Service</th>
      <th>Kind</th>
      <th>State</th>
      <th className="num">PID</th>
      <th className="num">Uptime</th>
      <th className="num">Restarts</th>
      <th className="wide">Last reason</th>
    </>
  );
}

export function ServiceCells({ service }: { service: ServiceInfo }) {
  const up = isUp(service.state);
  return (
    <>
      <td className="name" title={service.description}>
        {/* A real link, so the row can be reached and opened from the keyboard too. */}
        <a className="row-link" href={hrefFor('services', service.name)}>
          {service.name}
        </a>
      </td>
      <td className="muted">{service.kind}</td>
      <td>
        <StateBadge state={service.state} />
      </td>
      <td className="num">
        {service.pid === null ? (
          <span className="muted">—</span>
        ) : (
          <span className="mono">{service.pid}</span>
        )}
      </td>
      <td className="num">{up ? <Uptime since={service.startedAt} /> : <span className="muted">—</span>}</td>
      <td className="num">{service.restarts}</td>
      <td className="wide reason" title={service.reason ?? undefined}>
        {service.reason ?? <span className="muted">—</span>}
      </td>
    </>
  );
}
