/**
 * What happened to one service: its restarts (when, after which exit, and the backoff each took) and
 * every state transition with its reason and exit, newest first, live.
 */
import { useEffect, useMemo, useState } from 'react';
import { useApi } from '../../connection-context';
import { formatLatency, formatTimestamp } from '../../lib/format';
import { hrefFor } from '../../lib/route';
import type { RestartRecord, TimelineEntry } from '../../lib/service-timeline';
import { describeExitOf, restartHistory } from '../../lib/service-timeline';
import { useConnectionStore } from '../../stores/connection';
import { followTimeline, loadOlderTransitions, useTimelineStore } from '../../stores/service-timeline';
import { Countdown } from '../Elapsed';
import { ErrorNote } from '../ErrorNote';
import { StateBadge } from '../StateBadge';
import '../../styles/service.css';

/** Entries drawn at once; "Show more" adds as many again (the list can hold thousands). */
const SHOWN_STEP = 200;

export function ServiceTimeline({ name }: { name: string }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  useEffect(() => (connected ? followTimeline(api, name) : undefined), [api, name, connected]);
  const mine = useTimelineStore((s) => s.service === name);
  const items = useTimelineStore((s) => s.items);
  const status = useTimelineStore((s) => s.status);
  const error = useTimelineStore((s) => s.error);
  const restarts = useMemo(() => restartHistory(items), [items]);

  if (!mine || (status === 'loading' && items.length === 0)) {
    return <p className="muted">Loading the history of {name}…</p>;
  }
  if (status === 'error' && error) {
    return (
      <div className="feed-problem">
        <p>The history could not be read; it loads again when the connection is back.</p>
        <ErrorNote error={error} testId="timeline-error" />
      </div>
    );
  }
  return (
    <div className="svc-history">
      <section aria-labelledby={`restarts-${name}`}>
        <h3 className="section-title" id={`restarts-${name}`}>
          Restart history
        </h3>
        <RestartHistory records={restarts} />
      </section>
      <section aria-labelledby={`timeline-${name}`}>
        <h3 className="section-title" id={`timeline-${name}`}>
          State timeline
        </h3>
        <Timeline items={items} name={name} />
      </section>
    </div>
  );
}

const kindLabel: Record<RestartRecord['kind'], string> = {
  automatic: 'automatic',
  manual: 'by request',
  pending: 'waiting',
  'gave-up': 'gave up',
};

function RestartHistory({ records }: { records: readonly RestartRecord[] }) {
  if (records.length === 0) {
    return (
      <p className="muted" data-testid="restart-history-empty">
        No restarts in the transitions loaded.
      </p>
    );
  }
  return (
    <div className="table-wrap">
      <table className="table svc-restarts" data-testid="restart-history">
        <thead>
          <tr>
            <th>Time</th>
            <th>Restart</th>
            <th className="wide">After</th>
            <th>Exit</th>
            <th className="num">Backoff</th>
            <th className="num">Count</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={r.key} data-testid="restart-row" data-kind={r.kind} data-at={r.at}>
              <td className="num" title={formatTimestamp(r.at)}>
                {formatTimestamp(r.at).slice(11)}
              </td>
              <td>
                <span className="svc-restart-kind" data-kind={r.kind}>
                  {kindLabel[r.kind]}
                </span>
              </td>
              <td className="wide svc-wrap">{r.cause}</td>
              <td data-testid="restart-exit">{r.exit ? <span className="mono">{r.exit}</span> : '—'}</td>
              <td className="num" data-testid="restart-backoff">
                <Backoff record={r} />
              </td>
              <td className="num">{r.restarts}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Backoff({ record }: { record: RestartRecord }) {
  if (record.kind === 'pending') {
    return (
      <span>
        {record.plannedMs !== null && formatLatency(record.plannedMs)} <Countdown at={record.nextRestartAt} />
      </span>
    );
  }
  if (record.plannedMs === null) return <span className="muted">—</span>;
  return (
    <span
      title={
        record.waitedMs === null ? undefined : `started ${formatLatency(record.waitedMs)} after the exit`
      }
    >
      {formatLatency(record.plannedMs)}
    </span>
  );
}

function Timeline({ items, name }: { items: readonly TimelineEntry[]; name: string }) {
  const api = useApi();
  const [limit, setLimit] = useState(SHOWN_STEP);
  const next = useTimelineStore((s) => s.next);
  const trimmed = useTimelineStore((s) => s.trimmed);
  const loadingMore = useTimelineStore((s) => s.loadingMore);
  const moreError = useTimelineStore((s) => s.moreError);
  if (items.length === 0) {
    return (
      <p className="muted" data-testid="timeline-empty">
        No transitions yet: start it, and each change of its state appears here as it happens.
      </p>
    );
  }
  const shown = items.slice(0, limit);
  return (
    <>
      <ol
        className="svc-timeline"
        data-testid="timeline"
        data-count={items.length}
        aria-label={`Transitions of ${name}`}
      >
        {shown.map((e) => (
          <TimelineItem key={e.key} entry={e} />
        ))}
      </ol>
      <div className="feed-foot">
        <span className="muted" data-testid="timeline-status">
          {shown.length} of {items.length} transition{items.length === 1 ? '' : 's'}
          {next === null && !trimmed ? ', that is all' : ''}.
        </span>
        {items.length > limit ? (
          <button type="button" className="btn btn-small" onClick={() => setLimit((l) => l + SHOWN_STEP)}>
            Show more
          </button>
        ) : next !== null ? (
          <button
            type="button"
            className="btn btn-small"
            data-testid="timeline-more"
            disabled={loadingMore}
            onClick={() => {
              setLimit((l) => l + SHOWN_STEP);
              void loadOlderTransitions(api);
            }}
          >
            {loadingMore ? 'Loading…' : 'Load older'}
          </button>
        ) : trimmed ? (
          <a href={`${hrefFor('events')}/view=transitions&service=${name}`}>Older ones: the Events page</a>
        ) : null}
        {moreError && <ErrorNote error={moreError} testId="timeline-more-error" />}
      </div>
    </>
  );
}

function TimelineItem({ entry: e }: { entry: TimelineEntry }) {
  const exit = describeExitOf(e);
  const healthOnly = e.from === e.to;
  return (
    <li
      className="svc-timeline-item"
      data-testid="timeline-entry"
      data-from={e.from}
      data-to={e.to}
      data-at={e.at}
    >
      <time className="num muted" dateTime={new Date(e.at).toISOString()} title={formatTimestamp(e.at)}>
        {formatTimestamp(e.at).slice(11)}
      </time>
      <span className="transition">
        {healthOnly ? (
          <StateBadge state={e.to} />
        ) : (
          <>
            <StateBadge state={e.from} />
            <span className="muted" aria-label="to">
              →
            </span>
            <StateBadge state={e.to} />
          </>
        )}
        {e.health && e.health !== 'healthy' && <span className="text-warn">({e.health})</span>}
      </span>
      <span className="svc-timeline-reason" data-testid="timeline-reason">
        {e.reason}
      </span>
      <span className="svc-timeline-meta">
        {exit && (
          <span className="svc-exit mono" data-testid="timeline-exit">
            exit {exit}
          </span>
        )}
        {e.to === 'backoff' && e.nextRestartAt !== null && (
          <span className="muted">restart planned {formatTimestamp(e.nextRestartAt).slice(11)}</span>
        )}
        <span className="muted" title="Lifetime restart count">
          ↺ {e.restarts}
        </span>
      </span>
    </li>
  );
}
