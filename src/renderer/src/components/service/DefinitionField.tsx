/** One field of a service definition form: its control, its problem and its hint, all labelled. */
import { useId } from 'react';
import type { FieldPath } from '../../lib/service-form';
import { describeBytes, fieldSpecs } from '../../lib/service-form';
import '../../styles/service.css';

export function fieldTestId(prefix: string, path: FieldPath): string {
  return `${prefix}${path.replaceAll('.', '-')}`;
}

const TEXTAREA_ROWS: Partial<Record<string, number>> = { lines: 3, env: 3, json: 6, textarea: 3 };

export function DefinitionField({
  path,
  value,
  error,
  changed,
  testIdPrefix,
  readOnly = false,
  presetOption = false,
  hint,
  services = [],
  onChange,
}: {
  path: FieldPath;
  value: string;
  error: string | undefined;
  changed: boolean;
  testIdPrefix: string;
  readOnly?: boolean;
  /** Offer "the preset of its kind" (an empty value) in a choice. */
  presetOption?: boolean;
  /** Replaces the spec's hint. */
  hint?: string;
  /** For dependsOn: the services it may depend on. */
  services?: readonly string[];
  onChange: (value: string) => void;
}) {
  const spec = fieldSpecs[path];
  const id = useId();
  const testId = fieldTestId(testIdPrefix, path);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const bytes = spec.unit === 'bytes' ? describeBytes(value) : null;
  const hintText = [hint ?? spec.hint, bytes && `= ${bytes}`].filter(Boolean).join(' ');
  const describedBy =
    [error !== undefined && errorId, hintText && hintId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    className: 'input',
    'data-testid': testId,
    'aria-invalid': error !== undefined,
    'aria-describedby': describedBy,
  };

  let control;
  switch (spec.type) {
    case 'choice':
      control = (
        <select {...common} value={value} disabled={readOnly} onChange={(e) => onChange(e.target.value)}>
          {(presetOption || value === '') && <option value="">preset of its kind</option>}
          {spec.options?.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case 'bool':
      control = (
        <input
          {...common}
          className="checkbox"
          type="checkbox"
          checked={value === 'true'}
          disabled={readOnly}
          onChange={(e) => onChange(String(e.target.checked))}
        />
      );
      break;
    case 'deps':
      control = (
        <DependsOn
          labelId={`${id}-label`}
          testId={testId}
          value={value}
          services={services}
          invalid={error !== undefined}
          describedBy={describedBy}
          onChange={onChange}
        />
      );
      break;
    case 'lines':
    case 'env':
    case 'json':
    case 'textarea':
      control = (
        <textarea
          {...common}
          className="input mono"
          value={value}
          readOnly={readOnly}
          rows={TEXTAREA_ROWS[spec.type] ?? 3}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    default:
      control = (
        <input
          {...common}
          type="text"
          value={value}
          readOnly={readOnly}
          inputMode={
            spec.type === 'int' || spec.type === 'int-null' || spec.type === 'number' ? 'decimal' : undefined
          }
          placeholder={spec.placeholder ?? (spec.type.endsWith('-null') ? 'none' : undefined)}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }

  return (
    <div
      className="form-field svc-field"
      data-changed={changed}
      data-invalid={error !== undefined}
      data-path={path}
    >
      {spec.type === 'deps' ? (
        <span className="svc-label" id={`${id}-label`}>
          {spec.label}
        </span>
      ) : (
        <label htmlFor={id}>{spec.label}</label>
      )}
      <div className="form-control">
        {control}
        {spec.unit && <span className="form-unit muted">{spec.unit}</span>}
      </div>
      {error !== undefined && (
        <p className="field-error" id={errorId} data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
      {hintText && (
        <p className="form-hint muted" id={hintId}>
          {hintText}
        </p>
      )}
    </div>
  );
}

/** The other services as checkboxes; names that are not (or no longer) services stay listed to uncheck. */
function DependsOn({
  labelId,
  testId,
  value,
  services,
  invalid,
  describedBy,
  onChange,
}: {
  labelId: string;
  testId: string;
  value: string;
  services: readonly string[];
  invalid: boolean;
  describedBy: string | undefined;
  onChange: (value: string) => void;
}) {
  const chosen = value.split(/[\s,]+/).filter((n) => n !== '');
  const names = [...new Set([...services, ...chosen])];
  const toggle = (name: string, on: boolean): void => {
    const next = on ? [...chosen, name] : chosen.filter((n) => n !== name);
    onChange(names.filter((n) => next.includes(n)).join(', '));
  };
  if (names.length === 0) return <span className="muted">No other services.</span>;
  return (
    <div
      className="svc-deps"
      role="group"
      aria-labelledby={labelId}
      aria-describedby={describedBy}
      aria-invalid={invalid}
      data-testid={testId}
    >
      {names.map((name) => (
        <label key={name} className="svc-dep">
          <input
            type="checkbox"
            checked={chosen.includes(name)}
            data-testid={`${testId}-${name}`}
            onChange={(e) => toggle(name, e.target.checked)}
          />
          <span className="mono">{name}</span>
        </label>
      ))}
    </div>
  );
}
