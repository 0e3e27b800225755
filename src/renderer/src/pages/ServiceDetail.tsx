import { useEffect } from 'react';
import type { ServiceInfo, ServiceProgram } from '../../../shared/services';
import { useConnection } from '../connection-context';
import { Age, Countdown, Uptime } from '../components/Elapsed';
import { Field, Fields } from '../components/Fields';
import { JsonBlock } from '../components/JsonBlock';
import { ServiceActions } from '../components/ServiceActions';
import { StateBadge } from '../components/StateBadge';
import { formatLatency, formatTimestamp } from '../lib/format';
import { isUp } from '../lib/service-state';
import { useConnectionStore } from '../stores/connection';
import { refreshService } from '../stores/sync';

/** Heartbeats do not raise events, so the open detail re-reads its service this often. */
const REFRESH_MS = 2000;
/** DESIGN.md: a child silent for 5 s is hung. */
const HEARTBEAT_STALE_MS = 5000;

export function ServiceDetail({ service }: { service: ServiceInfo }) {
  const up = isUp(service.state);
  useLiveRefresh(service.name, up);
  return (
    <aside className="panel detail" data-testid="service-detail" data-state={service.state}>
      <header className="detail-head">
        <h2 className="mono">{service.name}</h2>
        <StateBadge state={service.state} testId="detail-state" />
        <ServiceActions service={service} testIdPrefix="detail-" />
      </header>
      <p className="muted detail-description">{service.description}</p>
      <div className="detail-body">
        <div>
          <h3 className="section-title">Process</h3>
          <Fields>
            <Field label="Kind">{service.kind}</Field>
            <Field label="Program">
              <span className="mono">{describeProgram(service.program)}</span>
            </Field>
            <Field label="Autostart">{service.autostart ? 'yes' : 'no'}</Field>
            <Field label="Reason">{service.reason ?? <span className="muted">—</span>}</Field>
            <Field label="PID" testId="detail-pid">
              <span className="mono">{service.pid ?? '—'}</span>
            </Field>
            <Field label="Started">{timestamp(service.startedAt)}</Field>
            <Field label="Ready">
              {timestamp(service.readyAt)}
              {service.readyAt !== null && service.startedAt !== null && (
                <span className="muted"> (after {formatLatency(service.readyAt - service.startedAt)})</span>
              )}
            </Field>
            <Field label="Uptime">
              {up ? <Uptime since={service.startedAt} /> : <span className="muted">—</span>}
            </Field>
            <Field label="Health" testId="detail-health">
              {service.health ? (
                <span className={service.health === 'healthy' ? '' : 'text-warn'}>
                  {service.health}
                  {service.healthReason ? <span className="muted"> — {service.healthReason}</span> : null}
                </span>
              ) : (
                <span className="muted">—</span>
              )}
            </Field>
            <Field label="Restarts">
              <span className="num">{service.restarts}</span>
              {service.failures > 0 && (
                <span className={service.crashLoop ? 'text-warn' : 'muted'}>
                  {' '}
                  ({service.failures} recent failure{service.failures === 1 ? '' : 's'}
                  {service.crashLoop ? ', crash loop' : ''})
                </span>
              )}
            </Field>
            {service.state === 'backoff' && (
              <Field label="Next restart" testId="detail-next-restart">
                <Countdown at={service.nextRestartAt} />
              </Field>
            )}
            <Field label="CPU / memory">
              {service.cpuPercent === null || service.rssBytes === null ? (
                <span className="muted">—</span>
              ) : (
                <span className="num">
                  {service.cpuPercent.toFixed(1)} % · {(service.rssBytes / 2 ** 20).toFixed(0)} MB
                  <span className="muted"> (whole process tree)</span>
                </span>
              )}
            </Field>
            <Field label="Last exit">{describeExit(service.lastExit)}</Field>
            <Field label="Last heartbeat" testId="detail-heartbeat">
              {up ? (
                <Age at={service.lastHeartbeatAt} staleAfterMs={HEARTBEAT_STALE_MS} />
              ) : (
                <span className="muted">—</span>
              )}
            </Field>
          </Fields>
        </div>
        <div>
          <h3 className="section-title">Reported when ready</h3>
          <ReportedDetail detail={service.detail} />
        </div>
      </div>
    </aside>
  );
}

function useLiveRefresh(name: string, up: boolean): void {
  const connection = useConnection();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  useEffect(() => {
    if (!up || !connected) return;
    const timer = setInterval(() => void refreshService(connection, name), REFRESH_MS);
    return () => clearInterval(timer);
  }, [connection, name, up, connected]);
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function checksOf(detail: unknown): Check[] | null {
  if (typeof detail !== 'object' || detail === null) return null;
  const checks = (detail as { checks?: unknown }).checks;
  if (!Array.isArray(checks)) return null;
  const valid = checks.every(
    (c: unknown) =>
      typeof c === 'object' &&
      c !== null &&
      typeof (c as Check).name === 'string' &&
      typeof (c as Check).ok === 'boolean' &&
      typeof (c as Check).detail === 'string',
  );
  return valid ? (checks as Check[]) : null;
}

function ReportedDetail({ detail }: { detail: unknown }) {
  if (detail === null || detail === undefined) {
    return <p className="muted">Nothing yet: a program reports here when it becomes ready.</p>;
  }
  const checks = checksOf(detail);
  if (!checks) return <JsonBlock value={detail} testId="detail-json" />;
  return (
    <ul className="checks" data-testid="service-checks">
      {checks.map((check) => (
        <li key={check.name} data-testid={`check-${check.name}`} data-ok={check.ok}>
          <span className={check.ok ? 'check-mark ok' : 'check-mark bad'}>{check.ok ? 'pass' : 'fail'}</span>
          <span className="check-name">{check.name}</span>
          <span className="check-detail muted">{check.detail}</span>
        </li>
      ))}
    </ul>
  );
}

function timestamp(at: number | null) {
  return at === null ? <span className="muted">—</span> : <span className="num">{formatTimestamp(at)}</span>;
}

function describeProgram(program: ServiceProgram): string {
  return program.type === 'builtin'
    ? `built-in: ${program.name}`
    : [program.command, ...program.args].join(' ');
}

function describeExit(exit: ServiceInfo['lastExit']) {
  if (!exit) return <span className="muted">—</span>;
  return (
    <span>
      {exit.reason} <span className="muted">at {formatTimestamp(exit.at)}</span>
    </span>
  );
}
