/**
 * The risk limits editor: the limits in force as a form checked by the schema `trader.limits`
 * applies (each problem at its field, Save disabled until it is right), saved into the trader's
 * configuration and applied live; a refusal from the core lands at the field it names.
 */
import { useId, useState } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { RiskLimits } from '../../../../shared/trader-api';
import {
  checkLimits,
  draftChanged,
  draftOf,
  limitFieldOfApiError,
  limitFields,
  messageAtLimitField,
  type LimitField,
  type LimitKey,
  type LimitsDraft,
} from '../../../../shared/trader-ui/limits-form';
import { useApi } from '../../connection-context';
import { useConnectionStore } from '../../stores/connection';
import { useTraderStore } from '../../stores/trader';
import { ErrorNote } from '../ErrorNote';
import { saveLimits } from './commands';

type Refusal = { field: LimitKey | null; error: ApiErrorShape };

export function LimitsEditor({
  name,
  limits,
  running,
}: {
  name: string;
  limits: RiskLimits;
  running: boolean;
}) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const saving = useTraderStore((s) => s.busy[name] === 'limits');
  // The limits the draft started from: when they change elsewhere and nothing was edited, follow them.
  const [base, setBase] = useState(limits);
  const [draft, setDraft] = useState<LimitsDraft>(() => draftOf(limits));
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saved, setSaved] = useState(false);
  if (base !== limits && !draftChanged(draft, base)) {
    setBase(limits);
    setDraft(draftOf(limits));
  }
  const check = checkLimits(draft);
  const changed = draftChanged(draft, limits);
  const errorAt = (key: LimitKey): string | undefined =>
    check.errors[key] ?? (refusal?.field === key ? messageAtLimitField(refusal.error.message) : undefined);

  const edit = (key: LimitKey, value: string): void => {
    setDraft((d) => ({ ...d, [key]: value }));
    setSaved(false);
    if (refusal && (refusal.field === key || refusal.field === null)) setRefusal(null);
  };
  const save = async (): Promise<void> => {
    if (!check.limits) return;
    setRefusal(null);
    const r = await saveLimits(api, name, check.limits);
    if (r === null) return;
    if (!r.ok) {
      setRefusal({ field: limitFieldOfApiError(r.error.field), error: r.error });
      return;
    }
    setSaved(true);
    setBase(check.limits);
  };
  const invalid = check.limits === null;

  return (
    <section
      className="panel trader-limits"
      data-testid="trader-limits"
      aria-labelledby="trader-limits-title"
    >
      <h2 id="trader-limits-title" className="section-title">
        Risk limits
      </h2>
      <form
        className="trader-limits-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        {limitFields.map((f) => (
          <LimitRow
            key={f.key}
            field={f}
            value={draft[f.key]}
            current={limits[f.key]}
            error={errorAt(f.key)}
            onChange={(v) => edit(f.key, v)}
          />
        ))}
        {refusal && refusal.field === null && (
          <ErrorNote error={refusal.error} testId="trader-limits-error" />
        )}
        <div className="form-actions">
          <button
            type="submit"
            className="btn btn-primary"
            disabled={!connected || saving || invalid || !changed}
            data-testid="trader-limits-save"
          >
            {saving ? 'Saving…' : 'Save limits'}
          </button>
          <button
            type="button"
            className="btn"
            disabled={!changed}
            onClick={() => {
              setDraft(draftOf(limits));
              setRefusal(null);
            }}
            data-testid="trader-limits-reset"
          >
            Undo changes
          </button>
          <span className="form-status muted" role="status" data-testid="trader-limits-status">
            {invalid
              ? 'Fix the fields marked in red to save.'
              : refusal
                ? 'Not saved: see the field marked in red.'
                : saved && !changed
                  ? running
                    ? 'Saved, and in force now.'
                    : 'Saved: in force when the trader starts.'
                  : changed
                    ? 'Not saved yet.'
                    : null}
          </span>
        </div>
      </form>
    </section>
  );
}

function LimitRow({
  field,
  value,
  current,
  error,
  onChange,
}: {
  field: LimitField;
  value: string;
  current: number;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  const id = useId();
  const testId = `trader-limit-${field.key}`;
  return (
    <div className="form-field" data-invalid={error !== undefined} data-changed={value !== String(current)}>
      <label htmlFor={id}>{field.label}</label>
      <div className="form-control">
        <input
          id={id}
          className="input trader-limit-input"
          inputMode="decimal"
          autoComplete="off"
          spellCheck={false}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error !== undefined}
          aria-describedby={`${id}-hint${error !== undefined ? ` ${id}-error` : ''}`}
          data-testid={testId}
        />
        <span className="form-unit muted">{field.unit}</span>
      </div>
      {error !== undefined && (
        <p className="field-error" id={`${id}-error`} data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
      <p className="form-hint muted" id={`${id}-hint`}>
        {field.hint}
      </p>
    </div>
  );
}
