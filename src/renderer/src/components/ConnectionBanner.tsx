/** While the connection is down, says so above every page: the figures below are the last known. */
import { useConnection } from '../connection-context';
import { useNow } from '../lib/clock';
import { useConnectionStore } from '../stores/connection';

export function ConnectionBanner() {
  const status = useConnectionStore((s) => s.status);
  if (status.state === 'connected' || status.state === 'auth-failed') return null;
  return <Banner />;
}

function Banner() {
  const { retryNow } = useConnection();
  const { state, detail, retryAt } = useConnectionStore((s) => s.status);
  const now = useNow();
  const wait = retryAt === null ? null : Math.max(0, Math.ceil((retryAt - now) / 1000));
  const lead =
    state === 'reconnecting'
      ? 'Connection to Vigil lost — showing the last known state.'
      : 'Connecting to Vigil…';
  return (
    <div className="banner banner-warn" data-testid="connection-banner" role="status">
      <span className="banner-text">
        <strong>{lead}</strong>
        {detail && <span className="muted"> {capitalize(detail)}.</span>}
        <span className="muted">{wait === null ? ' Trying now…' : ` Next attempt in ${wait} s.`}</span>
      </span>
      {retryNow && retryAt !== null && (
        <button type="button" className="btn btn-small" onClick={retryNow}>
          Retry now
        </button>
      )}
    </div>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
