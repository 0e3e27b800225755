/**
 * A notification for every new alert, wherever the person is in the app: the service, the kind and
 * the message, with Acknowledge and View. At most MAX_VISIBLE show (newest on top, the rest counted);
 * they dismiss themselves after a while, except the ones that need a person (fatal, crash loop,
 * survivors), and never while the pointer or the keyboard focus is on them. Screen readers hear each
 * new alert through a live region that is always in the page (one added with its content is often
 * not announced); critical ones assertively.
 */
import { useEffect, useState } from 'react';
import type { FocusEvent, KeyboardEvent } from 'react';
import { useApi } from '../connection-context';
import { alertKindLabel } from '../../../shared/services';
import { formatTimeOfDay } from '../lib/alert-kinds';
import { filtersHref } from '../lib/event-filters';
import { hrefFor } from '../lib/route';
import type { Toast } from '../stores/alerts';
import { acknowledgeToast, dismissAllToasts, dismissToast, useAlertsStore } from '../stores/alerts';
import { useConnectionStore } from '../stores/connection';
import { ErrorNote } from './ErrorNote';

export const MAX_VISIBLE = 5;
/** How long a notification that does not need a person stays up. */
export const AUTO_DISMISS_MS = 12_000;

export function AlertToasts() {
  const toasts = useAlertsStore((s) => s.toasts);
  const visible = toasts.slice(0, MAX_VISIBLE);
  const hidden = toasts.length - visible.length;
  return (
    <>
      <Announcer />
      {toasts.length > 0 && (
        <section className="toasts" aria-label="Alert notifications" data-testid="alert-toasts">
          <ol className="toast-list">
            {visible.map((toast) => (
              <AlertToast key={toast.key} toast={toast} />
            ))}
          </ol>
          {hidden > 0 && (
            <div className="toast-more" data-testid="toasts-more" data-count={hidden}>
              <span>
                +{hidden} more notification{hidden === 1 ? '' : 's'}
              </span>
              <a href={filtersHref({ status: 'open' })}>Open alerts</a>
              <button type="button" className="btn btn-small" onClick={dismissAllToasts}>
                Dismiss all
              </button>
            </div>
          )}
        </section>
      )}
    </>
  );
}

/** Two live regions, present from the start; a new key per announcement makes a repeat heard too. */
function Announcer() {
  const announcement = useAlertsStore((s) => s.announcement);
  const polite = announcement && !announcement.assertive ? announcement : null;
  const assertive = announcement?.assertive ? announcement : null;
  return (
    <>
      <div className="sr-only" role="status" aria-live="polite" data-testid="alert-announcer">
        {polite && <span key={polite.seq}>{polite.text}</span>}
      </div>
      <div className="sr-only" role="alert" aria-live="assertive" data-testid="alert-announcer-urgent">
        {assertive && <span key={assertive.seq}>{assertive.text}</span>}
      </div>
    </>
  );
}

function AlertToast({ toast }: { toast: Toast }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const { alert, key, sticky } = toast;
  const held = hovered || focused;

  useEffect(() => {
    if (sticky || held) return;
    const timer = setTimeout(() => dismissToast(key), AUTO_DISMISS_MS);
    return () => clearTimeout(timer);
  }, [key, sticky, held]);

  const onBlur = (event: FocusEvent<HTMLLIElement>): void => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setFocused(false);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLLIElement>): void => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      dismissToast(key);
    }
  };
  const what = `${alertKindLabel[alert.kind]} alert for ${alert.service}`;
  const titleId = `toast-title-${key}`;

  return (
    <li
      className="toast"
      data-testid="alert-toast"
      data-service={alert.service}
      data-kind={alert.kind}
      data-severity={alert.severity}
      data-sticky={sticky}
      data-tone={alert.severity === 'critical' ? 'bad' : 'warn'}
      aria-labelledby={titleId}
      onMouseEnter={() => setHovered(true)}
      onMouseLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={onBlur}
      onKeyDown={onKeyDown}
    >
      <div className="toast-head" id={titleId}>
        <span className="toast-kind">{alertKindLabel[alert.kind]}</span>
        <span className="mono toast-service">{alert.service}</span>
        <time className="muted num" dateTime={new Date(alert.at).toISOString()}>
          {formatTimeOfDay(alert.at)}
        </time>
        <button
          type="button"
          className="btn-link toast-close"
          data-testid="toast-dismiss"
          aria-label={`Dismiss notification: ${what}`}
          title="Dismiss (Esc)"
          onClick={() => dismissToast(key)}
        >
          ×
        </button>
      </div>
      <p className="toast-message" data-testid="toast-message" title={alert.message}>
        {alert.message}
      </p>
      {toast.cleared && <p className="toast-note muted">No longer open: the condition has ended.</p>}
      {toast.error && <ErrorNote error={toast.error} testId="toast-error" />}
      <div className="toast-actions">
        <button
          type="button"
          className="btn btn-small"
          data-testid="toast-ack"
          aria-label={`Acknowledge ${what}`}
          disabled={!connected || toast.acknowledging}
          onClick={() => void acknowledgeToast(api, key)}
        >
          {toast.acknowledging ? 'Acknowledging…' : 'Acknowledge'}
        </button>
        <a
          className="btn btn-small"
          href={hrefFor('services', alert.service)}
          data-testid="toast-view"
          aria-label={`View ${alert.service}`}
        >
          View
        </a>
        {sticky && <span className="toast-timer muted">stays until dismissed</span>}
      </div>
    </li>
  );
}
