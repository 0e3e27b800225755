/**
 * What happened, newest first: alerts (acknowledge them here) and every state transition, filtered by
 * service, kind or state, status and time, paged with the API's cursor. Live: each event carries its
 * row (with the row's id), so new rows appear at once without re-reading anything (and nothing polls).
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import type { ApiErrorShape } from '../../../shared/errors';
import type { AlertRecord, EventRecord } from '../../../shared/history';
import { recordOfAlert, recordOfTransition } from '../../../shared/history';
import type { AlertKind, ServiceState } from '../../../shared/services';
import { alertKindLabel, serviceStates } from '../../../shared/services';
import { ErrorNote } from '../components/ErrorNote';
import { Page } from '../components/Page';
import { StateBadge } from '../components/StateBadge';
import { useApi } from '../connection-context';
import type { AlertStatus, EventFilters, EventsView, TimeRange } from '../lib/event-filters';
import {
  alertKinds,
  alertStatuses,
  defaultFilters,
  filtersHref,
  filtersKey,
  hasFilters,
  parseFilters,
  rangeLabels,
  timeRanges,
} from '../lib/event-filters';
import { formatTimestamp } from '../lib/format';
import { hrefFor } from '../lib/route';
import { acknowledgeAlert } from '../stores/alerts';
import { useConnectionStore } from '../stores/connection';
import type { Feed, FeedState } from '../stores/event-feed';
import { alertFeed, transitionFeed } from '../stores/event-feed';
import { useServicesStore } from '../stores/services';

const views: { id: EventsView; label: string }[] = [
  { id: 'alerts', label: 'Alerts' },
  { id: 'transitions', label: 'State transitions' },
];

function go(filters: EventFilters): void {
  window.location.hash = filtersHref(filters);
}

export function EventsPage({ param }: { param: string | null }) {
  const filters = useMemo(() => parseFilters(param), [param]);
  const set = (patch: Partial<EventFilters>) => go({ ...filters, ...patch });
  useFeeds(filters);
  return (
    <Page id="events" title="Events">
      <ViewTabs view={filters.view} onChange={(view) => set({ view })} />
      <div role="tabpanel" id="events-panel" aria-labelledby={`tab-${filters.view}`} className="events-panel">
        <FilterBar filters={filters} set={set} />
        {filters.view === 'alerts' ? <AlertsList filters={filters} /> : <TransitionsList filters={filters} />}
      </div>
    </Page>
  );
}

/** Loads the list shown, reloads it when the connection comes back, and keeps it live. */
function useFeeds(filters: EventFilters): void {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const feed: Feed<AlertRecord> | Feed<EventRecord> = filters.view === 'alerts' ? alertFeed : transitionFeed;

  useEffect(() => {
    if (connected) void feed.load(api, filters);
  }, [api, feed, filters, connected]);

  useEffect(() => {
    const offs =
      filters.view === 'alerts'
        ? [
            api.on('service.alert', (a) => alertFeed.addLive(recordOfAlert(a), filters)),
            api.on('alert.changed', (a) => {
              alertFeed.patch(a);
              alertFeed.addLive(a, filters); // now acknowledged or cleared: it may belong here now
            }),
          ]
        : [api.on('service.transition', (t) => transitionFeed.addLive(recordOfTransition(t), filters))];
    return () => {
      for (const off of offs) off();
    };
  }, [api, filters]);
}

function ViewTabs({ view, onChange }: { view: EventsView; onChange: (view: EventsView) => void }) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  // Arrow keys move between tabs (the tabs pattern): one tab stop for the whole bar.
  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    const i = views.findIndex((v) => v.id === view);
    const next = views[(i + (event.key === 'ArrowRight' ? 1 : views.length - 1)) % views.length]!;
    onChange(next.id);
    refs.current[next.id]?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label="What to show" onKeyDown={onKeyDown}>
      {views.map((v) => (
        <button
          key={v.id}
          ref={(el) => {
            refs.current[v.id] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${v.id}`}
          className="tab"
          data-testid={`tab-${v.id}`}
          aria-selected={v.id === view}
          aria-controls="events-panel"
          tabIndex={v.id === view ? 0 : -1}
          onClick={() => onChange(v.id)}
        >
          {v.label}
        </button>
      ))}
    </div>
  );
}

// ---- filters ----

function FilterBar({ filters, set }: { filters: EventFilters; set: (patch: Partial<EventFilters>) => void }) {
  const names = useServicesStore((s) => s.names);
  // A service that is gone (or not loaded yet) stays choosable while it is the filter.
  const services = filters.service && !names.includes(filters.service) ? [...names, filters.service] : names;
  return (
    <form className="filters" data-testid="events-filters" onSubmit={(e) => e.preventDefault()}>
      <Select
        label="Service"
        testId="filter-service"
        value={filters.service ?? ''}
        onChange={(v) => set({ service: v || null })}
      >
        <option value="">All services</option>
        {services.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </Select>
      {filters.view === 'alerts' ? (
        <>
          <Select
            label="Kind"
            testId="filter-kind"
            value={filters.kind ?? ''}
            onChange={(v) => set({ kind: (v || null) as AlertKind | null })}
          >
            <option value="">All kinds</option>
            {alertKinds.map((k) => (
              <option key={k} value={k}>
                {alertKindLabel[k]}
              </option>
            ))}
          </Select>
          <Select
            label="Status"
            testId="filter-status"
            value={filters.status}
            onChange={(v) => set({ status: v as AlertStatus })}
          >
            {alertStatuses.map((s) => (
              <option key={s} value={s}>
                {s === 'all'
                  ? 'Any status'
                  : s === 'open'
                    ? 'Open'
                    : s === 'acknowledged'
                      ? 'Acknowledged'
                      : 'Cleared'}
              </option>
            ))}
          </Select>
        </>
      ) : (
        <Select
          label="State entered"
          testId="filter-state"
          value={filters.state ?? ''}
          onChange={(v) => set({ state: (v || null) as ServiceState | null })}
        >
          <option value="">Any state</option>
          {serviceStates.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
      )}
      <Select
        label="Time"
        testId="filter-range"
        value={filters.range}
        onChange={(v) => set({ range: v as TimeRange })}
      >
        {timeRanges.map((r) => (
          <option key={r} value={r}>
            {rangeLabels[r]}
          </option>
        ))}
      </Select>
      {filters.range === 'custom' && (
        <>
          <DateTimeInput
            label="From"
            testId="filter-from"
            value={filters.from}
            onChange={(from) => set({ from })}
          />
          <DateTimeInput
            label="To"
            testId="filter-to"
            value={filters.to}
            endOfMinute
            onChange={(to) => set({ to })}
          />
        </>
      )}
      <button
        type="button"
        className="btn btn-small"
        data-testid="filter-clear"
        disabled={!hasFilters(filters)}
        onClick={() => go({ ...defaultFilters, view: filters.view })}
      >
        Clear filters
      </button>
    </form>
  );
}

function Select({
  label,
  testId,
  value,
  onChange,
  children,
}: {
  label: string;
  testId: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}) {
  return (
    <label className="filter">
      <span className="filter-label">{label}</span>
      <select className="input" data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </label>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');

/** epoch ms ↔ the local "YYYY-MM-DDTHH:mm" of <input type="datetime-local">. */
function toLocalInput(epochMs: number | null): string {
  if (epochMs === null) return '';
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function DateTimeInput({
  label,
  testId,
  value,
  endOfMinute = false,
  onChange,
}: {
  label: string;
  testId: string;
  value: number | null;
  /** A "to" bound includes the whole minute it names. */
  endOfMinute?: boolean;
  onChange: (value: number | null) => void;
}) {
  return (
    <label className="filter">
      <span className="filter-label">{label}</span>
      <input
        type="datetime-local"
        className="input num"
        data-testid={testId}
        value={toLocalInput(value)}
        onChange={(e) => {
          const ms = e.target.value === '' ? null : new Date(e.target.value).getTime();
          onChange(ms === null || Number.isNaN(ms) ? null : ms + (endOfMinute ? 59_999 : 0));
        }}
      />
    </label>
  );
}

// ---- lists ----

function AlertsList({ filters }: { filters: EventFilters }) {
  const feed = alertFeed.use();
  return (
    <FeedView
      feed={feed}
      filters={filters}
      noun="alert"
      onMore={alertFeed.loadMore}
      onRetry={alertFeed.load}
      empty={
        <>
          No alerts yet. Vigil raises one when a service crash-loops, gives up (fatal), goes over a memory
          limit, stops answering, or leaves processes behind; each appears here and as a notification the
          moment it happens.
        </>
      }
    >
      <table className="table events-table" data-testid="alerts-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Service</th>
            <th>Alert</th>
            <th className="wide">Message</th>
            <th>Status</th>
            <th className="actions-col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {feed.items.map((alert) => (
            <AlertRow key={alert.id} alert={alert} />
          ))}
        </tbody>
      </table>
    </FeedView>
  );
}

function AlertRow({ alert }: { alert: AlertRecord }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const status =
    alert.acknowledgedAt !== null ? 'acknowledged' : alert.clearedAt !== null ? 'cleared' : 'open';
  const acknowledge = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    const res = await acknowledgeAlert(api, alert.id);
    // The reply is the new record (`alert.changed` brings it to every other window).
    if (res.ok) alertFeed.patch(res.result);
    else setError(res.error);
    setBusy(false);
  };
  return (
    <>
      <tr
        data-testid={`alert-row-${alert.id}`}
        data-service={alert.service}
        data-kind={alert.kind}
        data-status={status}
      >
        <td className="num">{formatTimestamp(alert.at)}</td>
        <td className="name">
          <a className="row-link" href={hrefFor('services', alert.service)}>
            {alert.service}
          </a>
        </td>
        <td>
          <span
            className="alert-kind"
            data-tone={alert.severity === 'critical' ? 'bad' : 'warn'}
            data-severity={alert.severity}
            title={alert.severity}
          >
            <i className="dot" aria-hidden="true" />
            {alertKindLabel[alert.kind]}
            <span className="sr-only"> ({alert.severity})</span>
          </span>
        </td>
        <td className="wide reason" title={alert.message}>
          {alert.message}
        </td>
        <td data-testid="alert-status">
          <AlertStatusCell alert={alert} />
        </td>
        <td className="actions-col">
          {alert.acknowledgedAt === null && (
            <button
              type="button"
              className="btn btn-small"
              data-testid={`ack-alert-${alert.id}`}
              aria-label={`Acknowledge ${alertKindLabel[alert.kind]} alert for ${alert.service}`}
              disabled={!connected || busy}
              onClick={() => void acknowledge()}
            >
              {busy ? 'Acknowledging…' : 'Acknowledge'}
            </button>
          )}
        </td>
      </tr>
      {error && (
        <tr className="row-error">
          <td colSpan={6}>
            <span className="muted">Acknowledge failed: </span>
            <ErrorNote error={error} testId={`ack-error-${alert.id}`} onDismiss={() => setError(null)} />
          </td>
        </tr>
      )}
    </>
  );
}

function AlertStatusCell({ alert }: { alert: AlertRecord }) {
  if (alert.acknowledgedAt === null && alert.clearedAt === null) {
    return <span className="pill pill-bad">open</span>;
  }
  return (
    <span className="status-lines">
      {alert.acknowledgedAt !== null && (
        <span title={formatTimestamp(alert.acknowledgedAt)}>
          acknowledged {shortTime(alert.acknowledgedAt)}
        </span>
      )}
      {alert.clearedAt !== null && (
        <span className="muted" title={formatTimestamp(alert.clearedAt)}>
          cleared {shortTime(alert.clearedAt)}
        </span>
      )}
    </span>
  );
}

function shortTime(at: number): string {
  return formatTimestamp(at).slice(11);
}

function TransitionsList({ filters }: { filters: EventFilters }) {
  const feed = transitionFeed.use();
  return (
    <FeedView
      feed={feed}
      filters={filters}
      noun="state transition"
      onMore={transitionFeed.loadMore}
      onRetry={transitionFeed.load}
      empty={
        <>
          No state transitions recorded yet. Start a service on the <a href={hrefFor('services')}>Services</a>{' '}
          page: every change of its state (starting, running, backoff, fatal…) appears here as it happens.
        </>
      }
    >
      <table className="table events-table" data-testid="transitions-table">
        <thead>
          <tr>
            <th>Time</th>
            <th>Service</th>
            <th>Transition</th>
            <th className="wide">Reason</th>
            <th className="num">Exit</th>
            <th className="num">Restarts</th>
          </tr>
        </thead>
        <tbody>
          {feed.items.map((event) => (
            <TransitionRow key={event.id} event={event} />
          ))}
        </tbody>
      </table>
    </FeedView>
  );
}

function TransitionRow({ event }: { event: EventRecord }) {
  return (
    <tr
      data-testid={`event-row-${event.id}`}
      data-service={event.service}
      data-to={event.to}
      data-at={event.at}
    >
      <td className="num">{formatTimestamp(event.at)}</td>
      <td className="name">
        <a className="row-link" href={hrefFor('services', event.service)}>
          {event.service}
        </a>
      </td>
      <td>
        <span className="transition">
          <StateBadge state={event.from} />
          <span className="muted" aria-label="to">
            →
          </span>
          <StateBadge state={event.to} />
          {event.health && event.health !== 'healthy' && <span className="text-warn"> ({event.health})</span>}
        </span>
      </td>
      <td className="wide reason" title={event.reason}>
        {event.reason}
      </td>
      <td className="num" data-testid="event-exit">
        {describeExit(event)}
      </td>
      <td className="num">{event.restarts}</td>
    </tr>
  );
}

function describeExit(event: EventRecord): ReactNode {
  if (event.exitSignal !== null) return <span className="mono">{event.exitSignal}</span>;
  if (event.exitCode !== null) return <span className="mono">code {event.exitCode}</span>;
  return <span className="muted">—</span>;
}

/** Loading, error, empty, or the list with its paging: the same for both lists. */
function FeedView<T>({
  feed,
  filters,
  noun,
  empty,
  onMore,
  onRetry,
  children,
}: {
  feed: FeedState<T>;
  filters: EventFilters;
  noun: string;
  empty: ReactNode;
  onMore: (api: ReturnType<typeof useApi>, f: EventFilters) => Promise<void>;
  onRetry: (api: ReturnType<typeof useApi>, f: EventFilters) => Promise<void>;
  children: ReactNode;
}) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  // What is on screen belongs to other filters until the new first page arrives.
  const current = feed.key === filtersKey(filters);
  const items = current ? feed.items : [];
  const plural = `${noun}s`;

  if (current && feed.status === 'error' && feed.error) {
    return (
      <div className="feed-problem" data-testid="feed-error">
        <p>Could not load the {plural}. Check that Vigil is running and connected, then try again.</p>
        <ErrorNote error={feed.error} testId="feed-error-note" />
        <button
          type="button"
          className="btn btn-small"
          disabled={!connected}
          onClick={() => void onRetry(api, filters)}
        >
          Retry
        </button>
      </div>
    );
  }
  if (!current || (feed.status === 'loading' && items.length === 0)) {
    return (
      <p className="empty" data-testid="feed-loading">
        {connected ? `Loading ${plural}…` : `Waiting for the connection to load the ${plural}…`}
      </p>
    );
  }
  if (items.length === 0) {
    return (
      <div data-testid="feed-status" data-count={0}>
        <div className="empty" data-testid="feed-empty">
          {hasFilters(filters) ? (
            <>
              No {plural} match these filters. Widen the time range or{' '}
              <button
                type="button"
                className="btn-inline"
                onClick={() => go({ ...defaultFilters, view: filters.view })}
              >
                clear the filters
              </button>
              . New ones appear here as they happen.
            </>
          ) : (
            empty
          )}
        </div>
      </div>
    );
  }
  return (
    <>
      <div className="table-wrap">{children}</div>
      <div className="feed-foot" data-testid="feed-status" data-count={items.length}>
        <span className="muted">
          {items.length} {items.length === 1 ? noun : plural}, newest first
          {feed.next === null ? ' — that is all.' : '.'}
        </span>
        {feed.next !== null && (
          <button
            type="button"
            className="btn btn-small"
            data-testid="load-more"
            disabled={!connected || feed.loadingMore}
            onClick={() => void onMore(api, filters)}
          >
            {feed.loadingMore ? 'Loading…' : `Load older ${plural}`}
          </button>
        )}
        {feed.moreError && <ErrorNote error={feed.moreError} testId="load-more-error" />}
      </div>
    </>
  );
}
