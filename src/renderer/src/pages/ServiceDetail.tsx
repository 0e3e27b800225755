/**
 * One service: its actions (with the outcome of the last one), then four tabs: the overview (process,
 * health, what it reported when ready), its state timeline and restart history, its live output, and
 * its configuration (form or JSON, saved through `services.update`), with Remove for a stopped one.
 */
import { useRef } from 'react';
import type { KeyboardEvent } from 'react';
import type { ServiceInfo, ServiceProgram } from '../../../shared/services';
import { Countdown, Uptime } from '../components/Elapsed';
import { ErrorNote } from '../components/ErrorNote';
import { Field, Fields } from '../components/Fields';
import { JsonBlock } from '../components/JsonBlock';
import { ServiceActions } from '../components/ServiceActions';
import { LogTail } from '../components/service/LogTail';
import { RemoveService } from '../components/service/RemoveService';
import { ServiceConfig } from '../components/service/ServiceConfig';
import { ServiceTimeline } from '../components/service/ServiceTimeline';
import { StateBadge } from '../components/StateBadge';
import { formatAge, formatLatency, formatTimestamp } from '../lib/format';
import { isUp } from '../../../shared/service-actions';
import { useServiceMetrics } from '../stores/live-metrics';
import type { DetailTab } from '../stores/service-detail';
import { detailTabs, forgetOutcome, showTab, useServiceDetailStore } from '../stores/service-detail';
import '../styles/service.css';

/** DESIGN.md: a child silent for 5 s is hung. */
const HEARTBEAT_STALE_MS = 5000;

const tabLabels: Record<DetailTab, string> = {
  overview: 'Overview',
  timeline: 'Timeline',
  logs: 'Logs',
  config: 'Configuration',
};

export function ServiceDetail({ service }: { service: ServiceInfo }) {
  const up = isUp(service.state);
  const tab = useServiceDetailStore((s) => s.tab);
  const panelId = `detail-panel-${service.name}`;
  return (
    <aside
      className="panel detail"
      data-testid="service-detail"
      data-service={service.name}
      data-state={service.state}
      aria-label={`Service ${service.name}`}
    >
      <header className="detail-head">
        <h2 className="mono">{service.name}</h2>
        <StateBadge state={service.state} testId="detail-state" />
        <ServiceActions service={service} testIdPrefix="detail-" />
        <RemoveService service={service} />
      </header>
      <ActionOutcome service={service} />
      <p className="muted detail-description">{service.description}</p>
      <DetailTabs tab={tab} panelId={panelId} name={service.name} />
      <div
        role="tabpanel"
        id={panelId}
        aria-labelledby={`detail-tab-${tab}-${service.name}`}
        className="svc-tabpanel"
        data-testid={`detail-panel-${tab}`}
      >
        {tab === 'overview' && <Overview service={service} up={up} />}
        {tab === 'timeline' && <ServiceTimeline key={service.name} name={service.name} />}
        {tab === 'logs' && <LogTail key={service.name} name={service.name} />}
        {tab === 'config' && <ServiceConfig key={service.name} service={service} />}
      </div>
    </aside>
  );
}

function DetailTabs({ tab, panelId, name }: { tab: DetailTab; panelId: string; name: string }) {
  const refs = useRef<Partial<Record<DetailTab, HTMLButtonElement | null>>>({});
  // Arrow keys, Home and End move between tabs (the tabs pattern): one tab stop for the bar.
  const onKeyDown = (event: KeyboardEvent): void => {
    const i = detailTabs.indexOf(tab);
    const n = detailTabs.length;
    const to =
      event.key === 'ArrowRight'
        ? (i + 1) % n
        : event.key === 'ArrowLeft'
          ? (i + n - 1) % n
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? n - 1
              : null;
    if (to === null) return;
    event.preventDefault();
    const next = detailTabs[to]!;
    showTab(next);
    refs.current[next]?.focus();
  };
  return (
    <div className="tabs svc-tabs" role="tablist" aria-label={`About ${name}`} onKeyDown={onKeyDown}>
      {detailTabs.map((t) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[t] = el;
          }}
          type="button"
          role="tab"
          id={`detail-tab-${t}-${name}`}
          className="tab"
          data-testid={`detail-tab-${t}`}
          aria-selected={t === tab}
          aria-controls={panelId}
          tabIndex={t === tab ? 0 : -1}
          onClick={() => showTab(t)}
        >
          {tabLabels[t]}
        </button>
      ))}
    </div>
  );
}

const pastTense: Record<string, string> = {
  start: 'Started',
  stop: 'Stopped',
  restart: 'Restarted',
  pause: 'Paused',
  resume: 'Resumed',
  acknowledge: 'Acknowledged',
};

/** What the last action on this service did: its new state, or the API's typed error. */
function ActionOutcome({ service }: { service: ServiceInfo }) {
  const outcome = useServiceDetailStore((s) => s.outcomes[service.name]);
  if (!outcome) return null;
  if (!outcome.ok && outcome.error) {
    return (
      <div className="svc-outcome" data-testid="detail-action-outcome" data-ok="false">
        <span className="muted">{outcome.action} failed: </span>
        <ErrorNote
          error={outcome.error}
          testId="detail-action-error"
          onDismiss={() => forgetOutcome(service.name)}
        />
      </div>
    );
  }
  const said = outcome.state ? `; the reply said “${outcome.state}”.` : '.';
  return (
    <p className="svc-outcome muted" role="status" data-testid="detail-action-outcome" data-ok="true">
      {`${pastTense[outcome.action] ?? outcome.action} at ${formatTimestamp(outcome.at).slice(11)}${said}`}
      <button
        type="button"
        className="btn-link"
        aria-label="Dismiss"
        onClick={() => forgetOutcome(service.name)}
      >
        ×
      </button>
    </p>
  );
}

function Overview({ service, up }: { service: ServiceInfo; up: boolean }) {
  return (
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
          <Field label="Restarts" testId="detail-restarts">
            <span className="num" data-testid="detail-restart-count">
              {service.restarts}
            </span>
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
          <Field label="CPU / memory" testId="detail-usage">
            <Usage service={service} />
          </Field>
          <Field label="Last exit">{describeExit(service.lastExit)}</Field>
          <Field label="Last heartbeat" testId="detail-heartbeat">
            {up ? <HeartbeatAge name={service.name} /> : <span className="muted">—</span>}
          </Field>
          {service.pendingChanges && (
            <Field label="Definition" testId="detail-pending">
              <span className="text-warn">changed while running: a restart applies it</span>
            </Field>
          )}
        </Fields>
      </div>
      <div>
        <h3 className="section-title">Reported when ready</h3>
        <ReportedDetail detail={service.detail} />
      </div>
    </div>
  );
}

/** Whole-tree CPU and memory, from the once-a-second `metrics` event (the last state change before one). */
function Usage({ service }: { service: ServiceInfo }) {
  const live = useServiceMetrics(service.name);
  const cpu = live ? live.cpuPercent : service.cpuPercent;
  const rss = live ? live.rssBytes : service.rssBytes;
  if (cpu === null || rss === null) return <span className="muted">—</span>;
  return (
    <span className="num">
      {cpu.toFixed(1)} % · {(rss / 2 ** 20).toFixed(0)} MB
      <span className="muted"> (whole process tree)</span>
    </span>
  );
}

/** The heartbeat age as the supervisor measured it, once a second (the `metrics` event): no clock skew. */
function HeartbeatAge({ name }: { name: string }) {
  const age = useServiceMetrics(name)?.heartbeatAgeMs ?? null;
  if (age === null) return <span className="muted">—</span>;
  const stale = age > HEARTBEAT_STALE_MS;
  return (
    <span className={stale ? 'num text-warn' : 'num'} data-age-ms={age}>
      {formatAge(age)}
    </span>
  );
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
