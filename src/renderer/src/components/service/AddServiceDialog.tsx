/**
 * Add a service from the UI: a built-in program (from `programs.list`, with its example configuration)
 * or any command, the fields a new service needs, the rest from the preset of its kind. Checked as
 * typed by `resolveDefinition` (what `services.add` runs); nothing is sent while invalid, and the
 * server's refusal (a name already taken…) lands at its field.
 */
import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { BuiltinProgram } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import type { Draft, FieldPath } from '../../lib/service-form';
import {
  activeFields,
  addFields,
  checkDraft,
  chooseProgram,
  newDraft,
  refusalAt,
} from '../../lib/service-form';
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

/** Chosen with the program buttons, not shown as fields. */
const programFields: ReadonlySet<FieldPath> = new Set<FieldPath>(['program.type', 'program.name']);
/** A built-in also takes its configuration. */
const builtinAddFields: readonly FieldPath[] = [...addFields, 'config'];

/** The built-in programs, read when the dialog opens: null while loading. */
function usePrograms(): { programs: BuiltinProgram[] | null; error: ApiErrorShape | null } {
  const api = useApi();
  const [state, setState] = useState<{ programs: BuiltinProgram[] | null; error: ApiErrorShape | null }>({
    programs: null,
    error: null,
  });
  useEffect(() => {
    let live = true;
    void api.programs.list().then((res) => {
      if (!live) return;
      setState(res.ok ? { programs: res.result, error: null } : { programs: [], error: res.error });
    });
    return () => {
      live = false;
    };
  }, [api]);
  return state;
}

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
  const { programs, error: programsError } = usePrograms();

  const builtin = draft['program.type'] === 'builtin';
  const chosen = builtin ? (programs?.find((p) => p.name === draft['program.name']) ?? null) : null;
  // A built-in that takes no configuration is not asked for one.
  const among = builtin && chosen?.config !== null ? builtinAddFields : addFields;
  const check = checkDraft(draft, among);
  const fields = activeFields(draft, among);
  const shown = fields.filter((p) => !programFields.has(p));
  // A blank form is not an error yet: a field speaks once edited, or all of them after a first try.
  const errorAt = (path: FieldPath): string | undefined =>
    (attempted || touched.has(path) ? check.errors[path] : undefined) ??
    (refusal?.field === path ? refusal.message : undefined);

  const choose = (program: BuiltinProgram | null): void => {
    setDraft((d) => chooseProgram(d, program, touched));
    if (refusal && (refusal.field === null || programFields.has(refusal.field))) setRefusal(null);
  };

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
          A program that ships with Vigil, or any command Vigil should start, watch and restart. Restart
          backoff, crash-loop rule and stop timeout come from the preset of its kind; change them later in its
          Configuration.
        </p>
        <ProgramChoice
          programs={programs}
          error={programsError}
          chosen={builtin ? draft['program.name'] : null}
          problem={errorAt('program.name') ?? errorAt('program.type')}
          onChoose={choose}
        />
        {shown.map((path) => (
          <DefinitionField
            key={path}
            path={path}
            value={draft[path]}
            error={errorAt(path)}
            changed={touched.has(path)}
            testIdPrefix="add-"
            presetOption={path === 'restart.policy'}
            services={names}
            {...(path === 'config' && chosen?.config ? { hint: configHint(chosen) } : {})}
            onChange={(v) => edit(path, v)}
          />
        ))}
        {attempted &&
          check.formErrors.map((e) => (
            <p className="field-error" key={e} data-testid="add-form-error">
              {e}
            </p>
          ))}
        {refusal && (refusal.field === null || !shown.includes(refusal.field)) && (
          <ErrorNote error={refusal.error} testId="add-error" />
        )}
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

function configHint(program: BuiltinProgram): string {
  const config = program.config!;
  return `${config.required ? 'Required' : 'Optional'}: ${config.description}. A JSON object, given to it in VIGIL_CONFIG.`;
}

/** Custom command, or one of the built-in programs, each with what it does. */
function ProgramChoice({
  programs,
  error,
  chosen,
  problem,
  onChoose,
}: {
  programs: BuiltinProgram[] | null;
  error: ApiErrorShape | null;
  /** The built-in chosen, or null for a custom command. */
  chosen: string | null;
  problem: string | undefined;
  onChoose: (program: BuiltinProgram | null) => void;
}) {
  const name = useId();
  return (
    <fieldset className="svc-programs" data-testid="add-program">
      <legend className="field-label">Program</legend>
      <label className="svc-program" data-testid="add-program-custom">
        <input type="radio" name={name} checked={chosen === null} onChange={() => onChoose(null)} />
        <span>
          <span className="svc-program-name">Custom command</span>
          <span className="muted svc-program-text">
            Any executable: a Python strategy, a Go collector, a script.
          </span>
        </span>
      </label>
      {programs?.map((p) => (
        <label className="svc-program" key={p.name} data-testid={`add-program-${p.name}`}>
          <input type="radio" name={name} checked={chosen === p.name} onChange={() => onChoose(p)} />
          <span>
            <span className="svc-program-name mono">{p.name}</span>{' '}
            <span className="muted">(built-in, {p.kind})</span>
            <span className="muted svc-program-text">{p.description}</span>
          </span>
        </label>
      ))}
      {programs === null && <p className="muted">Reading the built-in programs…</p>}
      {error && <ErrorNote error={error} testId="add-programs-error" />}
      {problem && (
        <p className="field-error" data-testid="add-program-error">
          {problem}
        </p>
      )}
    </fieldset>
  );
}
