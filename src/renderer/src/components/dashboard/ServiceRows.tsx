/**
 * One row per service: its state, uptime, restarts and last reason (with the countdown to the next
 * restart while it waits in backoff), CPU and memory against its limits, heartbeat age and the last
 * five minutes as a sparkline. The live figures re-render only their own cells, once per sample.
 */
import { memo } from 'react';
import type { ServiceInfo } from '../../../../shared/services';
import { serviceColor } from '../../lib/dashboard-colors';
import { formatBytes, formatCpu } from '../../lib/dashboard-format';
import { memoryBand } from '../../../../shared/service-status';
import { formatDuration } from '../../lib/format';
import { hrefFor } from '../../lib/route';
import { isUp } from '../../../../shared/service-actions';
import { useChartLiveStore, useLiveUsage } from '../../stores/chart-live';
import { Countdown, Uptime } from '../Elapsed';
import { StateBadge } from '../StateBadge';
import { Sparkline } from './Sparkline';
import { UsageBar } from './UsageBar';

export function ServiceRows({
  services,
  names,
}: {
  services: readonly ServiceInfo[];
  names: readonly string[];
}) {
  return (
    <div className="table-wrap">
      <table className="table dash-table" data-testid="dashboard-services">
        <thead>
          <tr>
            <th>Service</th>
            <th>State</th>
            <th className="num">Uptime</th>
            <th className="num">Restarts</th>
            <th className="wide">Last reason</th>
            <th>CPU</th>
            <th>Memory</th>
            <th className="num">Heartbeat</th>
            <th title="CPU (solid, in the service's colour) and memory (dashed) over the last 5 minutes">
              Last 5 min<span className="sr-only">: CPU solid, memory dashed</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {services.map((service) => (
            <ServiceRow key={service.name} service={service} color={serviceColor(service.name, names)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const ServiceRow = memo(function ServiceRow({ service, color }: { service: ServiceInfo; color: string }) {
  const { name, state } = service;
  const up = isUp(state);
  const reason = service.reason ?? service.lastExit?.reason ?? null;
  return (
    <tr
      className="clickable"
      data-testid={`dashboard-row-${name}`}
      data-state={state}
      data-health={service.health ?? undefined}
      onClick={() => (window.location.hash = hrefFor('services', name))}
    >
      <td
        className="name"
        title={service.description ? `${service.kind}: ${service.description}` : service.kind}
      >
        <span className="dash-swatch" style={{ background: color }} aria-hidden="true" />
        {/* A real link, so the row can be reached and opened from the keyboard too. */}
        <a className="row-link" href={hrefFor('services', name)}>
          {name}
        </a>
        <span className="sr-only">, {service.kind}</span>
      </td>
      <td>
        <StateBadge state={state} testId={`dashboard-state-${name}`} />
        {state === 'running' && service.health && service.health !== 'healthy' && (
          <span
            className="dash-health"
            data-health={service.health}
            title={service.healthReason ?? undefined}
          >
            {service.health}
          </span>
        )}
        {service.crashLoop && (
          <span className="dash-health" data-health="crash-loop">
            crash loop
          </span>
        )}
      </td>
      <td className="num" data-testid={`dashboard-uptime-${name}`}>
        {up ? <Uptime since={service.startedAt} /> : <span className="muted">—</span>}
      </td>
      <td className="num" data-testid={`dashboard-restarts-${name}`}>
        {service.restarts}
      </td>
      <td className="wide reason dash-reason">
        {state === 'backoff' && service.nextRestartAt !== null && (
          <span className="dash-countdown" data-testid={`dashboard-countdown-${name}`}>
            restart <Countdown at={service.nextRestartAt} />
          </span>
        )}
        <span
          className="dash-reason-text"
          data-testid={`dashboard-reason-${name}`}
          title={reason ?? undefined}
        >
          {reason ?? <span className="muted">—</span>}
        </span>
      </td>
      <LiveCells service={service} color={color} />
    </tr>
  );
});

function LiveCells({ service, color }: { service: ServiceInfo; color: string }) {
  const usage = useLiveUsage(service.name);
  const maxRss = useChartLiveStore((s) => s.maxRss);
  const { name } = service;
  const up = isUp(service.state);
  const cpu = up ? (usage?.cpuPercent ?? service.cpuPercent) : null;
  const rss = up ? (usage?.rssBytes ?? service.rssBytes) : null;
  const { softBytes, hardBytes } = service.definition.memory;
  const band = memoryBand(rss, softBytes, hardBytes);
  // The bar's full width: the hard limit, else a bit past the soft one, else the largest service now.
  const memMax = hardBytes ?? (softBytes !== null ? softBytes * 1.25 : Math.max(maxRss * 1.1, 64 * 2 ** 20));
  const limitText =
    hardBytes !== null
      ? ` / ${formatBytes(hardBytes)}`
      : softBytes !== null
        ? ` (soft ${formatBytes(softBytes)})`
        : '';
  const limitTitle = [
    softBytes !== null ? `soft limit ${formatBytes(softBytes)} (a warning)` : 'no soft limit',
    hardBytes !== null ? `hard limit ${formatBytes(hardBytes)} (a graceful restart)` : 'no hard limit',
  ].join('; ');
  const marks = softBytes !== null ? [{ at: softBytes, title: `soft limit ${formatBytes(softBytes)}` }] : [];
  return (
    <>
      <td>
        <UsageBar
          testId={`dashboard-cpu-${name}`}
          label={`CPU of ${name}`}
          value={cpu}
          max={100}
          band={cpu === null ? 'none' : cpu >= 90 ? 'soft' : 'ok'}
          text={cpu === null ? '—' : formatCpu(cpu)}
          valueText={cpu === null ? 'not running' : `${formatCpu(cpu)} of one core`}
          title="CPU of the whole process tree, % of one core"
        />
      </td>
      <td>
        <UsageBar
          testId={`dashboard-mem-${name}`}
          label={`Memory of ${name}`}
          value={rss}
          max={memMax}
          band={band}
          text={rss === null ? '—' : `${formatBytes(rss)}${limitText}`}
          valueText={rss === null ? 'not running' : `${formatBytes(rss)}; ${limitTitle}`}
          marks={marks}
          unlimited={softBytes === null && hardBytes === null}
          title={`Memory of the whole process tree; ${limitTitle}`}
        />
      </td>
      <td className="num">
        <HeartbeatAge service={service} ageMs={up ? (usage?.heartbeatAgeMs ?? null) : null} />
      </td>
      <td className="dash-spark-cell">
        <Sparkline name={name} color={color} />
      </td>
    </>
  );
}

function HeartbeatAge({ service, ageMs }: { service: ServiceInfo; ageMs: number | null }) {
  const { heartbeat } = service.definition;
  const testId = `dashboard-heartbeat-${service.name}`;
  if (heartbeat === null) {
    return (
      <span className="muted" data-testid={testId} title="This service sends no heartbeats (a plain command)">
        none
      </span>
    );
  }
  if (ageMs === null) {
    return (
      <span className="muted" data-testid={testId}>
        —
      </span>
    );
  }
  const tone = ageMs > heartbeat.timeoutMs ? 'bad' : ageMs > heartbeat.timeoutMs / 2 ? 'warn' : 'ok';
  return (
    <span
      className="dash-heartbeat"
      data-testid={testId}
      data-tone={tone}
      title={`Last heartbeat ${formatDuration(ageMs)} ago; the timeout is ${formatDuration(heartbeat.timeoutMs)}`}
    >
      {(ageMs / 1000).toFixed(1)} s
    </span>
  );
}
