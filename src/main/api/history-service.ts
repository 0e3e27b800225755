/**
 * History between the supervisor, control.db and the API: it records what the supervisor decides
 * (handing back the ids the live events carry), tells every window about alerts that change, and
 * answers the history queries.
 */
import { ApiError } from '../../shared/errors';
import type { AlertRecord, EventRecord, Page, SeriesKey, SeriesResult } from '../../shared/history';
import type { AlertKind, ServiceAlert, ServiceTransition } from '../../shared/services';
import type { AlertQuery, EventQuery, SeriesQuery } from '../store/history-queries';
import type { ControlStore } from '../store/store';
import type { EventHub } from './event-hub';

export class HistoryService {
  constructor(
    private readonly store: ControlStore,
    private readonly hub: EventHub,
    /** How often resource samples are taken now: raw series points are that far apart. */
    private readonly sampleIntervalMs: () => number,
  ) {}

  /** Queues a transition; returns its id in `events.list`. */
  recordTransition(t: ServiceTransition): number {
    return this.store.history.recordTransition(t);
  }

  /** Queues an alert; returns its id for `alerts.acknowledge`. */
  raiseAlert(a: ServiceAlert): number {
    return this.store.history.raiseAlert(a);
  }

  /** The condition behind (service, kind) ended: every alert it clears is announced with `alert.changed`. */
  clearAlerts(service: string, kind: AlertKind, at: number): void {
    for (const alert of this.store.history.clearAlerts(service, kind, at))
      this.hub.emit('alert.changed', alert);
  }

  series(q: SeriesQuery): SeriesResult {
    // What was recorded in the last second is still queued: write it so a chart sees it.
    this.store.history.flush();
    return this.store.queries.querySeries({ ...q, sampleIntervalMs: this.sampleIntervalMs() });
  }

  metrics(service?: string): SeriesKey[] {
    return this.store.queries.listSeries(service);
  }

  events(q: EventQuery): Page<EventRecord> {
    this.store.history.flush();
    return this.store.queries.queryEvents(q);
  }

  alerts(q: AlertQuery): Page<AlertRecord> {
    this.store.history.flush();
    return this.store.queries.queryAlerts(q);
  }

  acknowledge(id: number): AlertRecord {
    this.store.history.flush();
    if (!this.store.queries.getAlert(id)) throw new ApiError('not_found', `no alert with id ${id}`, 'id');
    this.store.history.acknowledgeAlert(id, Date.now());
    this.store.history.flush();
    const alert = this.store.queries.getAlert(id)!;
    this.hub.emit('alert.changed', alert);
    return alert;
  }
}
