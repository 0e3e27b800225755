/**
 * Add a service from the UI, any command: the fields a new service needs, the rest from the preset of
 * its kind. Checked as typed by `resolveDefinition` (what `services.add` runs); nothing is sent while
 * invalid, and the server's refusal (a name already taken…) lands at its field.
 */
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import { useApi } from '../../connection-context';
import type { Draft, FieldPath } from '../../lib/service-form';
import { activeFields, addFields, checkDraft, newDraft, refusalAt } from '../../lib/service-form';
import { openService } from '../../lib/service-route';
import { useConnectionStore } from '../../stores/connection';
import { runAndRecord, showTab } from '../../stores/service-detail';
import { useServicesStore } from '../../stores/services';
import { ErrorNote } from '../ErrorNote';
import { DefinitionField } from './DefinitionField';
import { Modal } from './Modal';
import '../../styles/service.css';

export function AddServiceButton() {
  const [open, setOpen] = useState(false);
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  return (
    <>
      <button
        type="button"
        className="btn btn-primary btn-small"
        data-testid="add-service"
        disabled={!connected}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        Add service…
      </button>
      {open && <AddServiceDialog onClose={() => setOpen(false)} />}
    </>
  );
}

type Refusal = { field: FieldPath | null; message: string; error: ApiErrorShape };

function AddServiceDialog({ onClose }: { onClose: () => void }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const names = useServicesStore((s) => s.names);
  const titleId = useId();
  const [draft, setDraft] = useState<Draft>(newDraft);
  const [touched, setTouched] = useState<ReadonlySet<FieldPath>>(new Set());
  const [attempted, setAttempted] = useState(false);
  const [startNow, setStartNow] = useState(false);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saving, setSaving] = useState(false);

  const check = checkDraft(draft, addFields);
  const fields = activeFields(draft, addFields);
  // A blank form is not an error yet: a field speaks once edited, or all of them after a first try.
  const errorAt = (path: FieldPath): string | undefined =>
    (attempted || touched.has(path) ? check.errors[path] : undefined) ??
    (refusal?.field === path ? refusal.message : undefined);

  const edit = (path: FieldPath, value: string): void => {
    setDraft((d) => ({ ...d, [path]: value }));
    setTouched((t) => new Set(t).add(path));
    if (refusal && (refusal.field === path || refusal.field === null)) setRefusal(null);
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setAttempted(true);
    if (!check.definition || saving || !connected) return; // nothing leaves while invalid
    const definition = check.definition;
    setSaving(true);
    setRefusal(null);
    const res = await api.services.add({ definition });
    setSaving(false);
    if (!res.ok) {
      setRefusal({ ...refusalAt(res.error, fields), error: res.error });
      return;
    }
    // The API sends no event for an added service: the reply goes into the list.
    useServicesStore.getState().upsert(res.result);
    onClose();
    showTab('overview');
    openService(definition.name);
    if (startNow && definition.kind !== 'trader') void runAndRecord(api, definition.name, 'start');
  };

  return (
    <Modal labelledBy={titleId} testId="add-service-dialog" onClose={onClose}>
      <form className="svc-form svc-add" onSubmit={(e) => void submit(e)} noValidate>
        <header className="svc-modal-head">
          <h2 id={titleId}>Add a service</h2>
          <button type="button" className="btn-link" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        <p className="muted svc-modal-intro">
          Any program Vigil should start, watch and restart. Restart backoff, crash-loop rule and stop timeout
          come from the preset of its kind; change them later in its Configuration.
        </p>
        {fields.map((path) => (
          <DefinitionField
            key={path}
            path={path}
            value={draft[path]}
            error={errorAt(path)}
            changed={touched.has(path)}
            testIdPrefix="add-"
            presetOption={path === 'restart.policy'}
            services={names}
            onChange={(v) => edit(path, v)}
          />
        ))}
        {attempted &&
          check.formErrors.map((e) => (
            <p className="field-error" key={e} data-testid="add-form-error">
              {e}
            </p>
          ))}
        {refusal && refusal.field === null && <ErrorNote error={refusal.error} testId="add-error" />}
        <label className="svc-inline-check">
          <input
            type="checkbox"
            data-testid="add-start-now"
            checked={startNow}
            disabled={draft.kind === 'trader'}
            onChange={(e) => setStartNow(e.target.checked)}
          />
          Start it once added
          {draft.kind === 'trader' ? ' (a trader is started by a person, from its row)' : ''}
        </label>
        <div className="form-actions">
          <button
            type="submit"
            className="btn btn-primary"
            data-testid="add-submit"
            disabled={!connected || saving || (attempted && check.definition === null)}
          >
            {saving ? 'Adding…' : 'Add service'}
          </button>
          <button type="button" className="btn" data-testid="add-cancel" onClick={onClose}>
            Cancel
          </button>
          <span className="form-status muted" role="status" data-testid="add-status">
            {attempted && check.definition === null ? 'Fix the fields marked in red.' : null}
          </span>
        </div>
      </form>
    </Modal>
  );
}
