/**
 * Native notifications for the alerts a person should hear about even with the window hidden. Rate
 * limited so a crash loop or a flapping stream cannot flood the desktop: at most one per service and
 * kind per minute and at most a few per minute overall; whatever is held back is told in one summary
 * ("and 3 more alerts") once the minute has passed. A click opens the window on the page that
 * explains it: the service's detail page, or the Events page for a summary.
 */
import type { VigilApi } from '../../shared/client';
import { hrefFor } from '../../shared/routes';
import { alertKindLabel, type AlertKind, type ServiceAlert } from '../../shared/services';

/**
 * Everything but a memory soft limit, which is a warning the Dashboard shows and which clears by
 * itself; the rest mean a service is down, restarting, leaving processes behind, its data is off, or
 * a trader paused, halted or was killed.
 */
export const NOTIFIED_KINDS: ReadonlySet<AlertKind> = new Set<AlertKind>([
  'fatal',
  'crash-loop',
  'memory-hard',
  'survivors',
  'unresponsive',
  'degraded',
  'data-gap',
  'trader-daily-loss',
  'trader-stale',
  'trader-risk',
  'trader-kill-switch',
  'trader-reload',
]);

export const RATE_WINDOW_MS = 60_000;
/** Notifications (summaries included) in any RATE_WINDOW_MS. */
export const MAX_PER_WINDOW = 3;
/** Services named in a summary's body; the rest are counted. */
const SUMMARY_NAMES = 4;

export interface NotificationOptions {
  title: string;
  body: string;
  /** Linux: critical ones stay until dismissed. */
  urgency: 'normal' | 'critical';
}

/** The parts of Electron's Notification the notifier uses. */
export interface NotificationLike {
  on(event: 'click' | 'close', listener: () => void): unknown;
  show(): void;
}

export interface AlertNotifierOptions {
  api: VigilApi;
  notify(options: NotificationOptions): NotificationLike;
  /** Shows the window on a page (a hash route such as `#/services/x`). */
  openAt(route: string): void;
  /** True while the window is in front: it shows the alert itself, so no native one is sent. */
  windowFocused?: () => boolean;
}

function keyOf(alert: ServiceAlert): string {
  return `${alert.service}\u0000${alert.kind}`;
}

export interface AlertNotifier {
  dispose(): void;
}

export function createAlertNotifier(options: AlertNotifierOptions): AlertNotifier {
  const { windowFocused = () => false } = options;
  /** When each notification of the current window was shown, oldest first. */
  let sent: number[] = [];
  const lastByKey = new Map<string, number>();
  let held: ServiceAlert[] = [];
  let summaryTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Shown notifications, kept referenced until closed or clicked: a notification object that is
   * garbage-collected loses its click handler (macOS).
   */
  const live = new Set<NotificationLike>();

  const show = (notification: NotificationOptions, route: string): void => {
    const n = options.notify(notification);
    live.add(n);
    n.on('click', () => {
      live.delete(n);
      options.openAt(route);
    });
    n.on('close', () => live.delete(n));
    n.show();
    sent.push(Date.now());
  };

  const prune = (now: number): void => {
    sent = sent.filter((at) => at > now - RATE_WINDOW_MS);
    for (const [key, at] of lastByKey) if (at <= now - RATE_WINDOW_MS) lastByKey.delete(key);
  };

  const showAlert = (alert: ServiceAlert, now: number): void => {
    lastByKey.set(keyOf(alert), now);
    show(
      {
        title: `${alert.service}: ${alertKindLabel[alert.kind]}`,
        body: alert.message,
        urgency: alert.severity === 'critical' ? 'critical' : 'normal',
      },
      hrefFor('services', alert.service),
    );
  };

  const onAlert = (alert: ServiceAlert): void => {
    if (!NOTIFIED_KINDS.has(alert.kind) || windowFocused()) return;
    const now = Date.now();
    prune(now);
    if (!lastByKey.has(keyOf(alert)) && sent.length < MAX_PER_WINDOW) {
      showAlert(alert, now);
      return;
    }
    held.push(alert);
    scheduleSummary(now);
  };

  /** The summary goes out when the oldest notification of the window leaves it, freeing a place. */
  const scheduleSummary = (now: number): void => {
    if (summaryTimer !== null) return;
    const oldest = sent[0] ?? now;
    summaryTimer = setTimeout(sendSummary, Math.max(0, oldest + RATE_WINDOW_MS - now));
  };

  const sendSummary = (): void => {
    summaryTimer = null;
    const alerts = held;
    held = [];
    const now = Date.now();
    prune(now);
    if (alerts.length === 0 || windowFocused()) return; // a window in front has shown them
    if (alerts.length === 1) {
      showAlert(alerts[0]!, now); // one held back is told as itself
      return;
    }
    const services = [...new Set(alerts.map((a) => a.service))];
    const named = services.slice(0, SUMMARY_NAMES).join(', ');
    const others = services.length - SUMMARY_NAMES;
    show(
      {
        title: `And ${alerts.length} more alerts`,
        body: `From ${named}${others > 0 ? ` and ${others} more` : ''}. The Events page lists them all.`,
        urgency: alerts.some((a) => a.severity === 'critical') ? 'critical' : 'normal',
      },
      // All from one service: its page has them; otherwise the Events page.
      services.length === 1 ? hrefFor('services', services[0]!) : hrefFor('events'),
    );
  };

  const off = options.api.on('service.alert', onAlert);
  return {
    dispose() {
      off();
      if (summaryTimer !== null) clearTimeout(summaryTimer);
      summaryTimer = null;
      held = [];
      live.clear();
    },
  };
}
