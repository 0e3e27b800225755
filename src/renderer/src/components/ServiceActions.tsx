/**
 * Start / Stop / Restart / Pause or Resume for one service, enabled only when they make sense, and
 * Acknowledge for a fatal one. Starting a trader is the person's explicit act (DESIGN.md, Safety): it
 * asks for a confirmation first.
 */
import { useState } from 'react';
import type { ServiceInfo } from '../../../shared/services';
import { useApi } from '../connection-context';
import { canAcknowledge, canPause, canRestart, canResume, canStart, canStop } from '../lib/service-state';
import type { ServiceAction } from '../stores/actions';
import { runServiceAction, useActionsStore } from '../stores/actions';
import { useConnectionStore } from '../stores/connection';

/** `testIdPrefix` keeps test ids unique when a service's actions appear twice (row and detail). */
export function ServiceActions({
  service,
  testIdPrefix = '',
}: {
  service: ServiceInfo;
  testIdPrefix?: string;
}) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const busy = useActionsStore((s) => s.busy[service.name]);
  const [confirming, setConfirming] = useState(false);
  const { name, state } = service;
  const idle = connected && busy === undefined;
  const run = (action: ServiceAction) => void runServiceAction(api, name, action);

  if (confirming) {
    return (
      <div className="actions">
        <span className="text-warn">Start trading?</span>
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid={`${testIdPrefix}confirm-start-${name}`}
          onClick={() => {
            setConfirming(false);
            run('start');
          }}
        >
          Confirm start
        </button>
        <button type="button" className="btn btn-small" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
    );
  }

  return (
    <div className="actions">
      <ActionButton
        label="Start"
        busyLabel="Starting…"
        testId={`${testIdPrefix}start-${name}`}
        busy={busy === 'start'}
        enabled={idle && canStart(state)}
        onClick={() => (service.kind === 'trader' ? setConfirming(true) : run('start'))}
      />
      <ActionButton
        label="Stop"
        busyLabel="Stopping…"
        testId={`${testIdPrefix}stop-${name}`}
        busy={busy === 'stop'}
        enabled={idle && canStop(state)}
        onClick={() => run('stop')}
      />
      <ActionButton
        label="Restart"
        busyLabel="Restarting…"
        testId={`${testIdPrefix}restart-${name}`}
        busy={busy === 'restart'}
        enabled={idle && canRestart(state)}
        onClick={() => run('restart')}
      />
      {canResume(state) ? (
        <ActionButton
          label="Resume"
          busyLabel="Resuming…"
          testId={`${testIdPrefix}resume-${name}`}
          busy={busy === 'resume'}
          enabled={idle}
          onClick={() => run('resume')}
        />
      ) : (
        <ActionButton
          label="Pause"
          busyLabel="Pausing…"
          testId={`${testIdPrefix}pause-${name}`}
          busy={busy === 'pause'}
          enabled={idle && canPause(state)}
          onClick={() => run('pause')}
        />
      )}
      {canAcknowledge(state) && (
        <ActionButton
          label="Acknowledge"
          busyLabel="Acknowledging…"
          testId={`${testIdPrefix}acknowledge-${name}`}
          busy={busy === 'acknowledge'}
          enabled={idle}
          onClick={() => run('acknowledge')}
        />
      )}
    </div>
  );
}

interface ActionButtonProps {
  label: string;
  busyLabel: string;
  testId: string;
  busy: boolean;
  enabled: boolean;
  onClick: () => void;
}

function ActionButton({ label, busyLabel, testId, busy, enabled, onClick }: ActionButtonProps) {
  return (
    <button
      type="button"
      className="btn btn-small"
      data-testid={testId}
      disabled={!enabled}
      onClick={(e) => {
        e.stopPropagation(); // the row around the buttons selects the service on click
        onClick();
      }}
    >
      {busy ? busyLabel : label}
    </button>
  );
}
