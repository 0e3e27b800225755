/**
 * A service's definition, editable two ways that save the same way (`services.update`): a form with
 * every field, and the raw JSON. Both are checked as they are typed by `resolveDefinition`, the
 * function the API runs; nothing is sent while anything is invalid, and a refusal from the server is
 * shown at the field it names.
 */
import { useState } from 'react';
import type { FormEvent } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { ServiceDefinition } from '../../../../shared/service-definition';
import type { ServiceInfo } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import type { Draft, FieldPath, Issue } from '../../lib/service-form';
import {
  activeFields,
  changedFields,
  checkDraft,
  checkJson,
  draftOf,
  fieldSections,
  refusalAt,
  rebase,
} from '../../lib/service-form';
import { useConnectionStore } from '../../stores/connection';
import { useServicesStore } from '../../stores/services';
import { ErrorNote } from '../ErrorNote';
import { DefinitionField } from './DefinitionField';
import '../../styles/service.css';

type View = 'form' | 'json';

export function ServiceConfig({ service }: { service: ServiceInfo }) {
  const [view, setView] = useState<View>('form');
  return (
    <div className="svc-config" data-testid="service-config">
      <div className="svc-config-head">
        <div className="segmented" role="radiogroup" aria-label="Edit the definition as">
          {(['form', 'json'] as const).map((v) => (
            <label className="segment" key={v}>
              <input
                type="radio"
                name={`config-view-${service.name}`}
                value={v}
                checked={view === v}
                data-testid={`config-view-${v}`}
                onChange={() => setView(v)}
              />
              <span>{v === 'form' ? 'Form' : 'JSON'}</span>
            </label>
          ))}
        </div>
        {service.pendingChanges && (
          <p className="svc-pending" data-testid="config-pending">
            The definition changed while it runs: a restart applies it.
          </p>
        )}
      </div>
      {/* Both stay mounted, so switching views keeps what was typed in each. */}
      <div hidden={view !== 'form'}>
        <DefinitionForm service={service} />
      </div>
      <div hidden={view !== 'json'}>
        <JsonEditor service={service} />
      </div>
    </div>
  );
}

type Refusal = { field: FieldPath | null; message: string; error: ApiErrorShape };

/** Saves through `services.update`; the reply goes into the store (the API sends no event for it). */
async function save(
  api: ReturnType<typeof useApi>,
  name: string,
  definition: ServiceDefinition,
): Promise<{ ok: true; info: ServiceInfo } | { ok: false; error: ApiErrorShape }> {
  const res = await api.services.update({ name, definition });
  if (!res.ok) return { ok: false, error: res.error };
  useServicesStore.getState().upsert(res.result);
  return { ok: true, info: res.result };
}

function DefinitionForm({ service }: { service: ServiceInfo }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const names = useServicesStore((s) => s.names);
  const serverJson = JSON.stringify(service.definition);
  const [baseJson, setBaseJson] = useState(serverJson);
  const [base, setBase] = useState<Draft>(() => draftOf(service.definition));
  const [draft, setDraft] = useState<Draft>(base);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [changedElsewhere, setChangedElsewhere] = useState(false);

  // The definition changed on the server (an import, another window): untouched fields follow.
  if (serverJson !== baseJson) {
    const next = draftOf(service.definition);
    const edited = changedFields(draft, base).length > 0;
    setBaseJson(serverJson);
    setBase(next);
    setDraft(rebase(draft, base, next));
    setRefusal(null);
    if (edited) setChangedElsewhere(true);
  }

  const check = checkDraft(draft);
  const changed = changedFields(draft, base);
  const invalid = check.definition === null;
  const shown = new Set(activeFields(draft));
  const errorAt = (path: FieldPath): string | undefined =>
    check.errors[path] ?? (refusal?.field === path ? refusal.message : undefined);

  const edit = (path: FieldPath, value: string): void => {
    setDraft((d) => ({ ...d, [path]: value }));
    if (refusal && (refusal.field === path || refusal.field === null)) setRefusal(null);
    setSaved(false);
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!check.definition || changed.length === 0 || saving || !connected) return; // nothing leaves while invalid
    setSaving(true);
    setRefusal(null);
    const res = await save(api, service.name, check.definition);
    setSaving(false);
    if (res.ok) {
      // The saved definition, as the server resolved it, is the new starting point.
      const next = draftOf(res.info.definition);
      setBaseJson(JSON.stringify(res.info.definition));
      setBase(next);
      setDraft(next);
      setSaved(true);
      setChangedElsewhere(false);
    } else {
      setRefusal({ ...refusalAt(res.error), error: res.error });
    }
  };

  const others = names.filter((n) => n !== service.name);
  return (
    <form className="svc-form" data-testid="config-form" onSubmit={(e) => void submit(e)} noValidate>
      {fieldSections.map((section) => (
        <fieldset className="form-section" key={section.title}>
          <legend className="section-title">{section.title}</legend>
          {section.fields
            .filter((p) => shown.has(p))
            .map((path) => (
              <DefinitionField
                key={path}
                path={path}
                value={draft[path]}
                error={errorAt(path)}
                changed={changed.includes(path)}
                testIdPrefix="cfg-"
                readOnly={path === 'name'}
                hint={path === 'name' ? 'Renaming is not supported: add a new service instead.' : undefined}
                services={others}
                onChange={(v) => edit(path, v)}
              />
            ))}
        </fieldset>
      ))}
      {check.formErrors.map((e) => (
        <p className="field-error" key={e} data-testid="cfg-form-error">
          {e}
        </p>
      ))}
      {refusal && refusal.field === null && <ErrorNote error={refusal.error} testId="cfg-error" />}
      <div className="form-actions svc-sticky-actions">
        <button
          type="submit"
          className="btn btn-primary"
          data-testid="cfg-save"
          disabled={!connected || saving || invalid || changed.length === 0}
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="cfg-revert"
          disabled={saving || changed.length === 0}
          onClick={() => {
            setDraft(base);
            setRefusal(null);
            setChangedElsewhere(false);
          }}
        >
          Revert
        </button>
        <span className="form-status muted" role="status" data-testid="cfg-status">
          {invalid
            ? 'Fix the fields marked in red to save.'
            : changed.length > 0
              ? `${changed.length} unsaved change${changed.length === 1 ? '' : 's'}.`
              : saved
                ? service.pendingChanges
                  ? 'Saved. It runs with the previous definition until it restarts.'
                  : 'Saved.'
                : null}
        </span>
      </div>
      {changedElsewhere && (
        <p className="form-note" data-testid="cfg-changed-elsewhere">
          The definition was changed elsewhere while you edited: the fields you did not edit show the new
          values; yours are kept until you save or revert.
        </p>
      )}
    </form>
  );
}

const pretty = (def: ServiceDefinition): string => JSON.stringify(def, null, 2);

function JsonEditor({ service }: { service: ServiceInfo }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const serverText = pretty(service.definition);
  const [base, setBase] = useState(serverText);
  const [text, setText] = useState(serverText);
  const [refusal, setRefusal] = useState<ApiErrorShape | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  // Unedited text follows the server; edited text is kept.
  if (serverText !== base) {
    setBase(serverText);
    if (text === base) setText(serverText);
    setRefusal(null);
  }

  const check = checkJson(text, service.name);
  const changed = text !== base;
  const invalid = check.definition === null;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!check.definition || !changed || saving || !connected) return;
    setSaving(true);
    setRefusal(null);
    const res = await save(api, service.name, check.definition);
    setSaving(false);
    if (res.ok) {
      const next = pretty(res.info.definition);
      setBase(next);
      setText(next);
      setSaved(true);
    } else {
      setRefusal(res.error);
    }
  };

  return (
    <form className="svc-json" data-testid="json-form" onSubmit={(e) => void submit(e)} noValidate>
      <label htmlFor={`json-${service.name}`} className="sr-only">
        The definition of {service.name} as JSON
      </label>
      <textarea
        id={`json-${service.name}`}
        className="input mono svc-json-text"
        data-testid="json-text"
        value={text}
        spellCheck={false}
        rows={24}
        aria-invalid={invalid}
        aria-describedby={`json-issues-${service.name}`}
        onChange={(e) => {
          setText(e.target.value);
          setRefusal(null);
          setSaved(false);
        }}
      />
      <div id={`json-issues-${service.name}`}>
        {check.issues.length > 0 && (
          <ul className="svc-issues" data-testid="json-issues">
            {check.issues.map((issue: Issue, i) => (
              <li key={i} className="field-error" data-testid="json-issue" data-path={issue.path}>
                {issue.path !== '' && <code>{issue.path}</code>} {issue.message}
              </li>
            ))}
          </ul>
        )}
      </div>
      {refusal && <ErrorNote error={refusal} testId="json-error" />}
      <div className="form-actions">
        <button
          type="submit"
          className="btn btn-primary"
          data-testid="json-save"
          disabled={!connected || saving || invalid || !changed}
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="json-revert"
          disabled={saving || !changed}
          onClick={() => {
            setText(base);
            setRefusal(null);
          }}
        >
          Revert
        </button>
        <span className="form-status muted" role="status" data-testid="json-status">
          {invalid
            ? 'Fix the problems listed to save.'
            : changed
              ? 'Unsaved changes.'
              : saved
                ? 'Saved.'
                : null}
        </span>
      </div>
    </form>
  );
}
