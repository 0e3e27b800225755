import { useConnectionStore } from '../stores/connection';
import type { ConnectionState } from '../transport/ws-transport';

const words: Record<ConnectionState, string> = {
  connected: 'Connected',
  connecting: 'Connecting',
  reconnecting: 'Reconnecting',
  'auth-failed': 'Auth failed',
};

export function ConnectionIndicator() {
  const { state, detail } = useConnectionStore((s) => s.status);
  return (
    <div
      className="conn"
      data-testid="connection-indicator"
      data-state={state}
      title={detail ?? words[state]}
      role="status"
      aria-live="polite"
    >
      <i className="dot" aria-hidden="true" />
      {words[state]}
    </div>
  );
}
