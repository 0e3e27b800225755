/**
 * Alerts as the whole window sees them: the open ones (for the header's count) and the notifications
 * (toasts) raised by `service.alert`. Loaded with `alerts.list` whenever the connection comes up, then
 * kept current by events only: `service.alert` adds (with the alert's id, so a notification can be
 * acknowledged at once), `alert.changed` acknowledges or clears (one event per alert cleared).
 */
import { create } from 'zustand';
import type { AlertRecord } from '../../../shared/history';
import { recordOfAlert } from '../../../shared/history';
import type { ApiErrorShape, Envelope } from '../../../shared/errors';
import type { VigilApi } from '../../../shared/client';
import type { AlertKind, ServiceAlertEvent } from '../../../shared/services';
import type { Connection } from '../transport/connection';
import type { ConnectionStatus } from '../transport/ws-transport';

/** The most the open list holds; beyond it the header says "1000+". */
const OPEN_LIMIT = 1000;
/** Notifications kept (shown or counted); older ones are dropped, the Events page still has them. */
const MAX_TOASTS = 100;

/** Alerts that need a person: their notification stays until someone dismisses it. */
const stickyKinds: ReadonlySet<AlertKind> = new Set<AlertKind>(['fatal', 'crash-loop', 'survivors']);

export function isSticky(kind: AlertKind): boolean {
  return stickyKinds.has(kind);
}

export interface Toast {
  /** Local key, unique in this window. */
  key: number;
  /** With its id in the history, for `alerts.acknowledge`. */
  alert: ServiceAlertEvent;
  sticky: boolean;
  /** The condition ended (the supervisor cleared the alert) while the notification was up. */
  cleared: boolean;
  acknowledging: boolean;
  error: ApiErrorShape | null;
}

interface AlertsStore {
  open: Readonly<Record<number, AlertRecord>>;
  /** More open alerts exist than were read. */
  openCapped: boolean;
  openLoaded: boolean;
  /** Newest first. */
  toasts: readonly Toast[];
  /** The latest thing to say to a screen reader, and how urgently. */
  announcement: { text: string; assertive: boolean; seq: number } | null;
}

export const useAlertsStore = create<AlertsStore>()(() => ({
  open: {},
  openCapped: false,
  openLoaded: false,
  toasts: [],
  announcement: null,
}));

let nextKey = 1;
let announceSeq = 0;

function announce(text: string, assertive = false): void {
  announceSeq += 1;
  useAlertsStore.setState({ announcement: { text, assertive, seq: announceSeq } });
}

function isOpen(a: AlertRecord): boolean {
  return a.acknowledgedAt === null && a.clearedAt === null;
}

function patchToasts(match: (t: Toast) => boolean, patch: (t: Toast) => Toast | null): void {
  useAlertsStore.setState((s) => ({
    toasts: s.toasts.flatMap((t) => {
      if (!match(t)) return [t];
      const next = patch(t);
      return next ? [next] : [];
    }),
  }));
}

/** Applies a changed alert record (from `alert.changed` or an acknowledge reply) everywhere. */
export function applyAlertRecord(record: AlertRecord): void {
  useAlertsStore.setState((s) => {
    const others = Object.entries(s.open).filter(([id]) => Number(id) !== record.id);
    return { open: Object.fromEntries(isOpen(record) ? [...others, [record.id, record]] : others) };
  });
  if (record.acknowledgedAt !== null) {
    // Acknowledged, here or elsewhere: its notification has done its job.
    patchToasts(
      (t) => t.alert.id === record.id,
      () => null,
    );
  } else if (record.clearedAt !== null) {
    patchToasts(
      (t) => t.alert.id === record.id,
      (t) => ({ ...t, cleared: true, sticky: false }),
    );
  }
}

export function dismissToast(key: number): void {
  patchToasts(
    (t) => t.key === key,
    () => null,
  );
}

export function dismissAllToasts(): void {
  useAlertsStore.setState({ toasts: [] });
}

/** `alerts.acknowledge` for one notification; its error stays on the notification. */
export async function acknowledgeToast(api: VigilApi, key: number): Promise<void> {
  const toast = useAlertsStore.getState().toasts.find((t) => t.key === key);
  if (!toast || toast.acknowledging) return;
  patchToasts(
    (t) => t.key === key,
    (t) => ({ ...t, acknowledging: true, error: null }),
  );
  const res = await api.alerts.acknowledge({ id: toast.alert.id });
  if (res.ok) {
    applyAlertRecord(res.result);
    dismissToast(key); // also when it was acknowledged before (then applyAlertRecord left it)
    announce(`Alert acknowledged: ${toast.alert.service}, ${toast.alert.kind}`);
  } else {
    patchToasts(
      (t) => t.key === key,
      (t) => ({ ...t, acknowledging: false, error: res.error }),
    );
  }
}

/** `alerts.acknowledge` from a list; the caller shows the reply (the record, or the error). */
export async function acknowledgeAlert(api: VigilApi, id: number): Promise<Envelope<AlertRecord>> {
  const res = await api.alerts.acknowledge({ id });
  if (res.ok) applyAlertRecord(res.result);
  return res;
}

async function refreshOpen(api: VigilApi): Promise<void> {
  const res = await api.alerts.list({ state: 'open', limit: OPEN_LIMIT });
  if (!res.ok) return; // the count keeps its last value; the next reconnect tries again
  const open = Object.fromEntries(res.result.items.map((a) => [a.id, a]));
  useAlertsStore.setState({ open, openCapped: res.result.next !== null, openLoaded: true });
  // Alerts closed while the connection was down (no event reached us): their notifications go quiet.
  const stillOpen = new Set(res.result.items.map((a) => a.id));
  patchToasts(
    (t) => !t.cleared && !stillOpen.has(t.alert.id) && !res.result.next,
    (t) => ({ ...t, cleared: true, sticky: false }),
  );
}

function addToast(alert: ServiceAlertEvent): void {
  const key = nextKey++;
  const toast: Toast = {
    key,
    alert,
    sticky: isSticky(alert.kind),
    cleared: false,
    acknowledging: false,
    error: null,
  };
  useAlertsStore.setState((s) => ({ toasts: [toast, ...s.toasts].slice(0, MAX_TOASTS) }));
  applyAlertRecord(recordOfAlert(alert));
  announce(
    `${alert.severity === 'critical' ? 'Critical alert' : 'Warning'}: ${alert.service}, ${alert.kind}. ${alert.message}`,
    toast.sticky,
  );
}

/** An alert (a `service.alert` event or an AlertRecord): it has an id, a service, a kind and a message. */
function isAlert(value: unknown): value is ServiceAlertEvent | AlertRecord {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'number' &&
    typeof v.service === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.message === 'string'
  );
}

export function startAlertSync(connection: Connection): () => void {
  const { api } = connection;
  const offAlert = api.on('service.alert', (payload) => {
    if (isAlert(payload)) addToast(payload);
  });
  const offChanged = api.on('alert.changed', (payload) => {
    if (isAlert(payload)) applyAlertRecord(payload as AlertRecord);
  });

  let previous: ConnectionStatus['state'] | null = null;
  const apply = (status: ConnectionStatus): void => {
    if (status.state === 'connected' && previous !== 'connected') void refreshOpen(api);
    if (status.state === 'auth-failed') {
      useAlertsStore.setState({ open: {}, openCapped: false, openLoaded: false, toasts: [] });
    }
    previous = status.state;
  };
  const offStatus = connection.onStatus(apply);
  apply(connection.status());

  return () => {
    offStatus();
    offAlert();
    offChanged();
  };
}
