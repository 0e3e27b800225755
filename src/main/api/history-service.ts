/** History for the API: metric series, transitions and alerts from control.db. */
import { ApiError } from '../../shared/errors';
import type { AlertRecord, EventRecord, Page, SeriesKey, SeriesResult } from '../../shared/history';
import type { AlertQuery, EventQuery, SeriesQuery } from '../store/history-queries';
import type { ControlStore } from '../store/store';
import type { EventHub } from './event-hub';

export class HistoryService {
  constructor(
    private readonly store: ControlStore,
    private readonly hub: EventHub,
  ) {}

  series(q: SeriesQuery): SeriesResult {
    // What was recorded in the last second is still queued: write it so a chart sees it.
    this.store.history.flush();
    const { service, metric, resolution, points } = this.store.queries.querySeries(q);
    return { service, metric, resolution, points };
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
