/**
 * Start / Stop / Restart / Pause or Resume for one service, enabled only when they make sense, and
 * Acknowledge for a fatal one. Starting a trader is the person's explicit act (DESIGN.md, Safety): it
 * asks for a confirmation first.
 */
import { useState } from 'react';
import type { ServiceInfo } from '../../../shared/services';
import { traderConfirmMode, traderMode } from '../../../shared/service-status';
import { useApi } from '../connection-context';
import {
  canAcknowledge,
  canPause,
  canRestart,
  canResume,
  canStart,
  canStop,
} from '../../../shared/service-actions';
import type { ServiceAction } from '../stores/actions';
import { useActionsStore } from '../stores/actions';
import { useConnectionStore } from '../stores/connection';
import { runAndRecord } from '../stores/service-detail';

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
  const [confirming, setConfirming] = useState<'start' | 'restart' | null>(null);
  const { name, state, kind } = service;
  const idle = connected && busy === undefined;
  const run = (action: ServiceAction) => void runAndRecord(api, name, action);

  if (confirming) {
    // The supervisor starts a trader only with the mode the person saw confirmed.
    const mode = traderConfirmMode(service);
    const verb = confirming === 'start' ? 'Start' : 'Restart';
    return (
      <div className="actions" role="group" aria-label={`Confirm: ${verb.toLowerCase()} ${name}`}>
        <span className="text-warn">
          {verb} trading, {mode === 'live' ? 'LIVE (real orders)' : traderMode(service).label}?
        </span>
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid={`${testIdPrefix}confirm-${confirming}-${name}`}
          onClick={() => {
            setConfirming(null);
            void runAndRecord(api, name, confirming, { mode });
          }}
        >
          Confirm {verb.toLowerCase()}
        </button>
        <button
          type="button"
          className="btn btn-small"
          data-testid={`${testIdPrefix}cancel-${confirming}-${name}`}
          onClick={() => setConfirming(null)}
        >
          Cancel
        </button>
      </div>
    );
  }

  // One row of buttons; Pause and Resume share a place, Acknowledge appears only for a fatal service.
  const buttons: {
    action: ServiceAction;
    label: string;
    busyLabel: string;
    enabled: boolean;
    shown: boolean;
  }[] = [
    { action: 'start', label: 'Start', busyLabel: 'Starting…', enabled: canStart(state), shown: true },
    { action: 'stop', label: 'Stop', busyLabel: 'Stopping…', enabled: canStop(state), shown: true },
    {
      action: 'restart',
      label: 'Restart',
      busyLabel: 'Restarting…',
      enabled: canRestart(state),
      shown: true,
    },
    {
      action: 'pause',
      label: 'Pause',
      busyLabel: 'Pausing…',
      enabled: canPause(state),
      shown: !canResume(state),
    },
    { action: 'resume', label: 'Resume', busyLabel: 'Resuming…', enabled: true, shown: canResume(state) },
    {
      action: 'acknowledge',
      label: 'Acknowledge',
      busyLabel: 'Acknowledging…',
      enabled: true,
      shown: canAcknowledge(state),
    },
  ];

  return (
    <div className="actions" role="group" aria-label={`Actions for ${name}`}>
      {buttons
        .filter((b) => b.shown)
        .map((b) => (
          <ActionButton
            key={b.action}
            label={b.label}
            busyLabel={b.busyLabel}
            accessibleName={`${b.label} ${name}`}
            hint={b.enabled ? undefined : whyNot(b.action, state)}
            testId={`${testIdPrefix}${b.action}-${name}`}
            busy={busy === b.action}
            enabled={idle && b.enabled}
            onClick={() =>
              kind === 'trader' && (b.action === 'start' || b.action === 'restart')
                ? setConfirming(b.action)
                : run(b.action)
            }
          />
        ))}
    </div>
  );
}

/** Why an action is off, as the button's tooltip. */
function whyNot(action: ServiceAction, state: ServiceInfo['state']): string {
  if (action === 'start' && state === 'fatal') return 'Fatal: acknowledge it first';
  if (action === 'start') return `Already ${state}`;
  if (action === 'pause') return 'Only a running service can be paused';
  return `Not while ${state}`;
}

interface ActionButtonProps {
  label: string;
  busyLabel: string;
  accessibleName: string;
  hint: string | undefined;
  testId: string;
  busy: boolean;
  enabled: boolean;
  onClick: () => void;
}

function ActionButton({
  label,
  busyLabel,
  accessibleName,
  hint,
  testId,
  busy,
  enabled,
  onClick,
}: ActionButtonProps) {
  return (
    <button
      type="button"
      className="btn btn-small"
      data-testid={testId}
      aria-label={accessibleName}
      title={hint}
      aria-busy={busy || undefined}
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
