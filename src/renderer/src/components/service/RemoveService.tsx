/**
 * Remove a stopped (or fatal) service, after a confirmation that says what goes and what stays. The
 * server's refusal (it is running again, others depend on it) is shown in the confirmation.
 */
import { useId, useRef, useState } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { ServiceInfo } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import { openService } from '../../lib/service-route';
import { useActionsStore } from '../../stores/actions';
import { useConnectionStore } from '../../stores/connection';
import { noteRemoved } from '../../stores/service-detail';
import { useServicesStore } from '../../stores/services';
import { ErrorNote } from '../ErrorNote';
import { Modal } from './Modal';
import '../../styles/service.css';

export function canRemove(state: ServiceInfo['state']): boolean {
  return state === 'stopped' || state === 'fatal';
}

export function RemoveService({ service }: { service: ServiceInfo }) {
  const [asking, setAsking] = useState(false);
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const busy = useActionsStore((s) => s.busy[service.name] !== undefined);
  const removable = canRemove(service.state);
  // A string, so the selector's result compares equal while nothing changes.
  const dependents = useServicesStore((s) =>
    s.names.filter((n) => s.byName[n]?.definition.dependsOn.includes(service.name)).join(', '),
  );
  return (
    <>
      <button
        type="button"
        className="btn btn-small btn-quiet-danger"
        data-testid={`remove-${service.name}`}
        aria-label={`Remove ${service.name}`}
        aria-haspopup="dialog"
        title={removable ? undefined : `Stop it before removing it (it is ${service.state})`}
        disabled={!connected || busy || !removable}
        onClick={() => setAsking(true)}
      >
        Remove…
      </button>
      {asking && <ConfirmRemove service={service} dependents={dependents} onClose={() => setAsking(false)} />}
    </>
  );
}

function ConfirmRemove({
  service,
  dependents,
  onClose,
}: {
  service: ServiceInfo;
  dependents: string;
  onClose: () => void;
}) {
  const api = useApi();
  const titleId = useId();
  const textId = useId();
  const cancel = useRef<HTMLButtonElement>(null);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const [removing, setRemoving] = useState(false);
  const { name } = service;

  const remove = async (): Promise<void> => {
    setRemoving(true);
    setError(null);
    const res = await api.services.remove({ name });
    setRemoving(false);
    if (!res.ok) {
      setError(res.error);
      return;
    }
    useServicesStore.getState().remove(name);
    noteRemoved(name);
    onClose();
    openService(null);
  };

  return (
    <Modal
      labelledBy={titleId}
      describedBy={textId}
      testId="remove-dialog"
      role="alertdialog"
      initialFocus={cancel}
      onClose={onClose}
    >
      <div className="svc-confirm">
        <h2 id={titleId}>
          Remove <span className="mono">{name}</span>?
        </h2>
        <p id={textId}>
          Its definition is deleted and it is no longer supervised. Its recorded transitions, alerts and log
          files are kept.
          {dependents && (
            <>
              {' '}
              <strong className="text-warn">
                {dependents} depend{dependents.includes(',') ? '' : 's'} on it: change them first.
              </strong>
            </>
          )}
        </p>
        {error && <ErrorNote error={error} testId="remove-error" />}
        <div className="form-actions">
          <button type="button" className="btn" data-testid="remove-cancel" ref={cancel} onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-danger"
            data-testid="remove-confirm"
            disabled={removing}
            onClick={() => void remove()}
          >
            {removing ? 'Removing…' : `Remove ${name}`}
          </button>
        </div>
      </div>
    </Modal>
  );
}
