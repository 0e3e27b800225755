/**
 * The settings `settings.update` accepts, in one form. Every field is checked as it is typed, by the
 * API's own schemas, and the problem is shown at the field; nothing is sent while anything is invalid,
 * only the changed fields are sent, and a refusal from the server lands at the field it names.
 */
import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { ApiErrorShape } from '../../../shared/errors';
import type { Settings } from '../../../shared/settings';
import { applySettingsPatch } from '../../../shared/settings';
import { useApi } from '../connection-context';
import type { Draft, FieldPath } from '../lib/settings-form';
import {
  changedFields,
  checkDraft,
  desktopOnlyNote,
  draftOf,
  fieldOfError,
  fieldSections,
  fieldSpecs,
  messageAtField,
  patchOf,
  rebase,
} from '../lib/settings-form';
import { useAppInfoStore } from '../stores/app-info';
import { useConnectionStore } from '../stores/connection';
import { followSettings, loadSettings, useSettingsStore } from '../stores/settings';
import { ErrorNote } from './ErrorNote';

/** Loads the settings while shown (again after a reconnect) and follows `config.changed`. */
function useServerSettings(): { settings: Settings | null; error: ApiErrorShape | null } {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const settings = useSettingsStore((s) => s.settings);
  const error = useSettingsStore((s) => s.error);
  useEffect(() => {
    if (!connected) return;
    const off = followSettings(api);
    void loadSettings(api);
    return off;
  }, [api, connected]);
  return { settings, error };
}

export function SettingsForm() {
  const { settings, error } = useServerSettings();
  if (!settings) {
    if (error) {
      return (
        <div className="feed-problem">
          <p>The settings could not be read. Check the connection; they load again when it is back.</p>
          <ErrorNote error={error} testId="settings-load-error" />
        </div>
      );
    }
    return <p className="muted">Loading settings…</p>;
  }
  return <LoadedForm server={settings} />;
}

type ServerRefusal = { field: FieldPath | null; error: ApiErrorShape };

function LoadedForm({ server }: { server: Settings }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const info = useAppInfoStore((s) => s.info);
  const [base, setBase] = useState(server);
  const [draft, setDraft] = useState<Draft>(() => draftOf(server));
  const [refusal, setRefusal] = useState<ServerRefusal | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  /** The server's settings changed under unsaved edits. */
  const [changedElsewhere, setChangedElsewhere] = useState(false);

  // The server's settings changed (a save, another window, an import): untouched fields follow.
  if (server !== base) {
    const next = rebase(draft, base, server);
    const followed = changedFields(draftOf(base), server).filter(
      (p) => !changedFields(draft, base).includes(p),
    );
    setBase(server);
    setDraft(next);
    setRefusal(null); // it was about settings the server no longer has: the form checks anew
    if (followed.length > 0 && changedFields(next, server).length > 0) setChangedElsewhere(true);
  }

  const check = checkDraft(draft, base);
  const changed = changedFields(draft, base);
  const invalid = check.settings === null;
  const refusedField = refusal?.field ?? null;
  const errorAt = (path: FieldPath): string | undefined =>
    check.errors[path] ?? (refusedField === path ? messageAtField(refusal!.error.message) : undefined);

  const edit = (path: FieldPath, value: string): void => {
    setDraft((d) => ({ ...d, [path]: value }));
    if (refusal && (refusal.field === path || refusal.field === null)) setRefusal(null);
    setSaved(false);
  };

  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!check.settings || changed.length === 0 || saving) return; // nothing leaves while invalid
    const patch = patchOf(check.settings, base);
    // The function settings.update runs: what it would refuse is refused here, at the field.
    const local = applySettingsPatch(base, patch);
    if (!local.ok) {
      setRefusal({ field: fieldOfError(local.error.field), error: local.error });
      return;
    }
    setSaving(true);
    setRefusal(null);
    const res = await api.settings.update({ patch });
    setSaving(false);
    if (res.ok) {
      useSettingsStore.getState().set(res.result);
      setSaved(true);
      setChangedElsewhere(false);
    } else {
      setRefusal({ field: fieldOfError(res.error.field), error: res.error });
    }
  };

  return (
    <form className="settings-form" data-testid="settings-form" onSubmit={(e) => void save(e)} noValidate>
      {fieldSections.map((section) => (
        <fieldset className="form-section" key={section.title}>
          <legend className="section-title">{section.title}</legend>
          {section.desktopOnly && (
            <p className="form-hint muted section-note" data-testid="settings-desktop-note">
              {desktopOnlyNote(info)}
            </p>
          )}
          {section.fields.map((path) => (
            <SettingField
              key={path}
              path={path}
              value={draft[path]}
              changed={changed.includes(path)}
              error={errorAt(path)}
              onChange={(v) => edit(path, v)}
            />
          ))}
        </fieldset>
      ))}
      {check.formError && <p className="field-error">{check.formError}</p>}
      {refusal && refusal.field === null && <ErrorNote error={refusal.error} testId="settings-error" />}
      <div className="form-actions">
        <button
          type="submit"
          className="btn btn-primary"
          data-testid="settings-save"
          disabled={!connected || saving || invalid || changed.length === 0}
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="settings-revert"
          disabled={saving || changed.length === 0}
          onClick={() => {
            setDraft(draftOf(base));
            setRefusal(null);
            setChangedElsewhere(false);
          }}
        >
          Revert
        </button>
        <span className="form-status muted" role="status" data-testid="settings-status">
          {invalid
            ? 'Fix the fields marked in red to save.'
            : changed.length > 0
              ? `${changed.length} unsaved change${changed.length === 1 ? '' : 's'}.`
              : saved
                ? 'Saved.'
                : null}
        </span>
      </div>
      {changedElsewhere && (
        <p className="form-note" data-testid="settings-changed-elsewhere">
          The settings were changed elsewhere while you edited: the fields you did not edit now show the new
          values; yours are kept until you save or revert.
        </p>
      )}
    </form>
  );
}

function SettingField({
  path,
  value,
  changed,
  error,
  onChange,
}: {
  path: FieldPath;
  value: string;
  changed: boolean;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  const spec = fieldSpecs[path];
  const id = useId();
  const testId = `setting-${path.replace('.', '-')}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const common = {
    id,
    className: 'input',
    'data-testid': testId,
    'aria-invalid': error !== undefined,
    'aria-describedby': error === undefined ? hintId : `${errorId} ${hintId}`,
    value,
  };
  return (
    <div className="form-field" data-changed={changed} data-invalid={error !== undefined}>
      <label htmlFor={id}>{spec.label}</label>
      <div className="form-control">
        {spec.type === 'toggle' ? (
          <input
            {...common}
            className="checkbox"
            type="checkbox"
            checked={value === 'true'}
            onChange={(e) => onChange(String(e.target.checked))}
          />
        ) : spec.type === 'choice' ? (
          <select {...common} onChange={(e) => onChange(e.target.value)}>
            {spec.options?.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        ) : (
          <input
            {...common}
            type="text"
            inputMode={spec.type === 'text-nullable' ? 'url' : 'numeric'}
            spellCheck={false}
            autoComplete="off"
            placeholder={spec.type.endsWith('nullable') ? 'none' : undefined}
            onChange={(e) => onChange(e.target.value)}
          />
        )}
        {spec.unit && <span className="form-unit muted">{spec.unit}</span>}
      </div>
      {error !== undefined && (
        <p className="field-error" id={errorId} data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
      <p className="form-hint muted" id={hintId}>
        {spec.hint}
      </p>
    </div>
  );
}
