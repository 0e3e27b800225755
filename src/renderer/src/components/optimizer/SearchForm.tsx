/**
 * A new parameter search: a form built from the chosen strategy's ParamSpecs (each parameter searched,
 * fixed or left at its default), the market and range, the objective, constraints, costs and the
 * out-of-sample share. Checked as it is typed by the schema `optimizer.submit` applies and by the
 * strategy's bounds, each problem at its field; a refusal from the core lands at the field it names,
 * or above the button with what to do.
 */
import { useId, useMemo, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import { venues } from '../../../../shared/market';
import { MAX_TRIALS, type ParamSpec, type StrategyInfo } from '../../../../shared/optimizer-api';
import { adviceFor } from '../../../../shared/optimizer-ui/advice';
import {
  checkDraft,
  draftFor,
  fieldOfApiError,
  messageAtField,
  objectiveLabels,
  optimizerObjectives,
  type OptimizerDraft,
  type ParamDraft,
  type ParamMode,
  withStrategy,
} from '../../../../shared/optimizer-ui/form';
import { useApi } from '../../connection-context';
import { collectorSpecs } from '../../lib/market-health';
import { hrefFor } from '../../lib/route';
import { useConnectionStore } from '../../stores/connection';
import { useOptimizerStore } from '../../stores/optimizer';
import { useServiceList } from '../../stores/services';
import { ErrorNote } from '../ErrorNote';
import { AdviceNote } from './AdviceNote';

const testIdOf = (field: string) => `opt-field-${field.replace(/\./g, '-')}`;

export function SearchPanel() {
  const strategies = useOptimizerStore((s) => s.strategies);
  const error = useOptimizerStore((s) => s.strategiesError);
  return (
    <section className="panel opt-new" data-testid="optimizer-new" aria-labelledby="opt-new-title">
      <h2 className="section-title" id="opt-new-title">
        New search
      </h2>
      {strategies === null ? (
        error ? (
          <div className="feed-problem" data-testid="optimizer-strategies-error">
            <p>The strategies could not be read, so no search can be set up yet.</p>
            <ErrorNote error={error} testId="optimizer-strategies-error-note" />
            <AdviceNote advice={adviceFor('strategies', error)} testId="optimizer-strategies-advice" />
          </div>
        ) : (
          <p className="muted">Reading the strategies…</p>
        )
      ) : strategies.length === 0 ? (
        <p className="empty" data-testid="optimizer-strategies-empty">
          The optimizer offers no strategies to search: this Vigil has none built in. Check that the optimizer
          service is configured in <a href={hrefFor('services')}>Services</a>, or update Vigil.
        </p>
      ) : (
        <SearchForm strategies={strategies} />
      )}
    </section>
  );
}

type Refusal = { field: string | null; error: ApiErrorShape };

function SearchForm({ strategies }: { strategies: StrategyInfo[] }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const services = useServiceList();
  const symbolsByVenue = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const s of services) {
      if (s.kind !== 'collector') continue;
      for (const spec of collectorSpecs(s)) {
        if (!spec.venue) continue;
        map.set(spec.venue, [...new Set([...(map.get(spec.venue) ?? []), ...spec.symbols])]);
      }
    }
    return map;
  }, [services]);
  const [draft, setDraft] = useState<OptimizerDraft>(() => {
    const firstVenue = [...symbolsByVenue.keys()][0];
    return draftFor(strategies[0]!, {
      now: Date.now(),
      venue: firstVenue,
      symbol: firstVenue ? symbolsByVenue.get(firstVenue)?.[0] : undefined,
    });
  });
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [submitted, setSubmitted] = useState<number | null>(null);
  // The strategy may disappear from a newer list: fall back to the first.
  const strategy = strategies.find((s) => s.id === draft.strategy) ?? strategies[0]!;
  if (strategy.id !== draft.strategy) setDraft(withStrategy(draft, strategy));

  const check = useMemo(() => checkDraft(draft, strategy), [draft, strategy]);
  const refusedAt = refusal?.field ?? null;
  const errorAt = (field: string): string | undefined =>
    check.errors[field] ?? (refusedAt === field ? messageAtField(refusal!.error.message) : undefined);
  const invalid = check.request === null;

  const touch = (field: string): void => {
    if (refusal && (refusal.field === field || refusal.field === null)) setRefusal(null);
    setSubmitted(null);
  };
  const edit = <K extends keyof OptimizerDraft>(key: K, value: OptimizerDraft[K]): void => {
    setDraft((d) => ({ ...d, [key]: value }));
    touch(key);
  };
  const editParam = (name: string, key: keyof ParamDraft, value: string): void => {
    setDraft((d) => ({ ...d, params: { ...d.params, [name]: { ...d.params[name]!, [key]: value } } }));
    touch(`params.${name}.${key}`);
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!check.request || submitting) return;
    setSubmitting(true);
    setRefusal(null);
    const r = await api.optimizer.submit({ request: check.request });
    setSubmitting(false);
    if (r.ok) {
      useOptimizerStore.getState().upsertRun(r.result);
      setSubmitted(r.result.id);
      window.location.hash = hrefFor('optimizer', String(r.result.id));
    } else {
      setRefusal({ field: fieldOfApiError(r.error.field), error: r.error });
    }
  };

  const symbols = symbolsByVenue.get(draft.venue) ?? [];
  const grid = draft.searchType === 'grid';
  const datalistId = useId();
  return (
    <form className="opt-form" data-testid="optimizer-form" onSubmit={(e) => void submit(e)} noValidate>
      <fieldset className="form-section">
        <legend>Strategy</legend>
        <Row label="Strategy" field="strategy" error={errorAt('strategy')} hint={strategy.description}>
          {(props) => (
            <select
              {...props}
              value={draft.strategy}
              onChange={(e) => {
                const next = strategies.find((s) => s.id === e.target.value);
                if (next) setDraft((d) => withStrategy(d, next));
                touch('strategy');
              }}
            >
              {strategies.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label} (v{s.version})
                </option>
              ))}
            </select>
          )}
        </Row>
      </fieldset>

      <fieldset className="form-section">
        <legend>Market and range</legend>
        <Row label="Venue" field="venue" error={errorAt('venue')}>
          {(props) => (
            <select
              {...props}
              value={draft.venue}
              onChange={(e) => {
                const venue = e.target.value;
                setDraft((d) => ({
                  ...d,
                  venue,
                  symbol: (symbolsByVenue.get(venue) ?? []).includes(d.symbol)
                    ? d.symbol
                    : (symbolsByVenue.get(venue)?.[0] ?? d.symbol),
                }));
                touch('venue');
              }}
            >
              {venues.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          )}
        </Row>
        <Row
          label="Symbol"
          field="symbol"
          error={errorAt('symbol')}
          hint={
            symbols.length > 0
              ? `Collected here: ${symbols.join(', ')}.`
              : 'No collector of this venue is configured: its recorded candles are what a search reads.'
          }
        >
          {(props) => (
            <>
              <input
                {...props}
                type="text"
                list={datalistId}
                spellCheck={false}
                autoComplete="off"
                placeholder="BTCUSDT"
                value={draft.symbol}
                onChange={(e) => edit('symbol', e.target.value.toUpperCase())}
              />
              <datalist id={datalistId}>
                {symbols.map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            </>
          )}
        </Row>
        <Row label="Candles" field="resolution" error={errorAt('resolution')}>
          {(props) => (
            <select
              {...props}
              value={draft.resolution}
              onChange={(e) => edit('resolution', e.target.value as '1s' | '1m')}
            >
              <option value="1m">1 minute</option>
              <option value="1s">1 second</option>
            </select>
          )}
        </Row>
        <Row label="From" field="from" error={errorAt('from')} hint="Local time.">
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              step={1}
              value={draft.from}
              onChange={(e) => edit('from', e.target.value)}
            />
          )}
        </Row>
        <Row label="To" field="to" error={errorAt('to')}>
          {(props) => (
            <input
              {...props}
              type="datetime-local"
              step={1}
              value={draft.to}
              onChange={(e) => edit('to', e.target.value)}
            />
          )}
        </Row>
        <Row
          label="Out of sample"
          field="outOfSample"
          unit="%"
          error={errorAt('outOfSample')}
          hint="The last part of the range: measured with each trial’s parameters and shown beside the in-sample score, never used to choose. 0: none."
        >
          {(props) => (
            <input
              {...props}
              inputMode="decimal"
              value={draft.outOfSample}
              onChange={(e) => edit('outOfSample', e.target.value)}
            />
          )}
        </Row>
        <CheckRow
          label="Run across recorded gaps"
          field="allowGaps"
          checked={draft.allowGaps}
          onChange={(v) => edit('allowGaps', v)}
          hint="Otherwise a range that crosses a gap in the recorded data is refused. The run lists the gaps it crossed."
          error={errorAt('allowGaps')}
        />
      </fieldset>

      <fieldset className="form-section">
        <legend>Parameters</legend>
        <div className="opt-segment-row">
          <div className="segmented" role="radiogroup" aria-label="Search type">
            {(['grid', 'random'] as const).map((t) => (
              <label className="segment" key={t}>
                <input
                  type="radio"
                  name="opt-search-type"
                  value={t}
                  checked={draft.searchType === t}
                  data-testid={`opt-search-${t}`}
                  onChange={() => edit('searchType', t)}
                />
                <span>{t === 'grid' ? 'Grid' : 'Random'}</span>
              </label>
            ))}
          </div>
          <span className="muted opt-trials" data-testid="opt-trial-estimate" role="status">
            {trialWords(check.trials)}
          </span>
        </div>
        <div className="table-wrap">
          <table className="table opt-params" data-testid="opt-params">
            <thead>
              <tr>
                <th scope="col">parameter</th>
                <th scope="col">use</th>
                <th scope="col">{grid ? 'min · max · step, or values' : 'min · max'}</th>
              </tr>
            </thead>
            <tbody>
              {strategy.params.map((spec) => (
                <ParamRow
                  key={spec.name}
                  spec={spec}
                  draft={draft.params[spec.name]!}
                  grid={grid}
                  errorAt={errorAt}
                  onEdit={(key, value) => editParam(spec.name, key, value)}
                />
              ))}
            </tbody>
          </table>
        </div>
        {errorAt('space') && (
          <p className="field-error opt-space-error" data-testid={`${testIdOf('space')}-error`} role="alert">
            {errorAt('space')}
          </p>
        )}
        {!grid && (
          <>
            <Row label="Trials" field="budget" error={errorAt('budget')} hint={`Draws, 1–${MAX_TRIALS}.`}>
              {(props) => (
                <input
                  {...props}
                  inputMode="numeric"
                  value={draft.budget}
                  onChange={(e) => edit('budget', e.target.value)}
                />
              )}
            </Row>
            <Row
              label="Seed"
              field="seed"
              error={errorAt('seed')}
              hint="The same seed draws the same trials. Empty: one is chosen and kept with the run."
            >
              {(props) => (
                <input
                  {...props}
                  inputMode="numeric"
                  placeholder="chosen for you"
                  value={draft.seed}
                  onChange={(e) => edit('seed', e.target.value)}
                />
              )}
            </Row>
          </>
        )}
      </fieldset>

      <fieldset className="form-section">
        <legend>Objective and constraints</legend>
        <Row label="Objective" field="objective" error={errorAt('objective')} hint="Scored in sample.">
          {(props) => (
            <select
              {...props}
              value={draft.objective}
              onChange={(e) => edit('objective', e.target.value as OptimizerDraft['objective'])}
            >
              {optimizerObjectives.map((o) => (
                <option key={o} value={o}>
                  {objectiveLabels[o]}
                </option>
              ))}
            </select>
          )}
        </Row>
        <Row
          label="Max drawdown"
          field="maxDrawdown"
          unit="%"
          error={errorAt('maxDrawdown')}
          hint="Trials that fall further in sample do not count as best. Empty: no limit."
        >
          {(props) => (
            <input
              {...props}
              inputMode="decimal"
              placeholder="no limit"
              value={draft.maxDrawdown}
              onChange={(e) => edit('maxDrawdown', e.target.value)}
            />
          )}
        </Row>
        <Row
          label="Min trades"
          field="minTrades"
          error={errorAt('minTrades')}
          hint="Fewest in-sample trades. Empty: no minimum."
        >
          {(props) => (
            <input
              {...props}
              inputMode="numeric"
              placeholder="no minimum"
              value={draft.minTrades}
              onChange={(e) => edit('minTrades', e.target.value)}
            />
          )}
        </Row>
      </fieldset>

      <fieldset className="form-section">
        <legend>Costs and account</legend>
        <Row label="Fee" field="feeBps" unit="bps" error={errorAt('feeBps')}>
          {(props) => (
            <input
              {...props}
              inputMode="decimal"
              value={draft.feeBps}
              onChange={(e) => edit('feeBps', e.target.value)}
            />
          )}
        </Row>
        <Row label="Slippage" field="slippageBps" unit="bps" error={errorAt('slippageBps')}>
          {(props) => (
            <input
              {...props}
              inputMode="decimal"
              value={draft.slippageBps}
              onChange={(e) => edit('slippageBps', e.target.value)}
            />
          )}
        </Row>
        <Row label="Latency" field="latencyMs" unit="ms" error={errorAt('latencyMs')}>
          {(props) => (
            <input
              {...props}
              inputMode="numeric"
              value={draft.latencyMs}
              onChange={(e) => edit('latencyMs', e.target.value)}
            />
          )}
        </Row>
        <Row label="Initial equity" field="initialEquity" error={errorAt('initialEquity')}>
          {(props) => (
            <input
              {...props}
              inputMode="decimal"
              value={draft.initialEquity}
              onChange={(e) => edit('initialEquity', e.target.value)}
            />
          )}
        </Row>
        <CheckRow
          label="Allow short"
          field="allowShort"
          checked={draft.allowShort}
          onChange={(v) => edit('allowShort', v)}
          hint="A negative target opens a short. Off: it means flat, as on spot."
          error={errorAt('allowShort')}
        />
      </fieldset>

      {check.formError && <p className="field-error">{check.formError}</p>}
      {refusal && refusal.field === null && (
        <div className="feed-problem" data-testid="opt-submit-error">
          <ErrorNote error={refusal.error} testId="opt-submit-error-note" />
          <AdviceNote advice={adviceFor('submit', refusal.error)} testId="opt-submit-advice" />
        </div>
      )}
      {refusal && refusal.field !== null && (
        <AdviceNote advice={adviceFor('submit', refusal.error)} testId="opt-submit-advice" />
      )}
      <div className="form-actions">
        <button
          type="submit"
          className="btn btn-primary"
          data-testid="opt-submit"
          disabled={!connected || submitting || invalid}
        >
          {submitting ? 'Submitting…' : 'Start search'}
        </button>
        <span className="form-status muted" role="status" data-testid="opt-submit-status">
          {invalid
            ? 'Fix the fields marked in red to start.'
            : submitted !== null
              ? `Run ${submitted} submitted.`
              : refusal
                ? 'The optimizer refused the search: see the field marked in red.'
                : null}
        </span>
      </div>
    </form>
  );
}

function trialWords(trials: ReturnType<typeof checkDraft>['trials']): string {
  if (!trials) return '';
  const n = trials.count.toLocaleString('en');
  const base = trials.upTo
    ? `Up to ${n} trials (parameter sets the strategy refuses are skipped)`
    : `${n} trials`;
  return trials.tooMany ? `${base}: more than ${MAX_TRIALS.toLocaleString('en')} may be refused` : base;
}

interface ControlProps {
  id: string;
  className: string;
  'data-testid': string;
  'aria-invalid': boolean;
  'aria-describedby': string;
}

function Row({
  label,
  field,
  error,
  hint,
  unit,
  children,
}: {
  label: string;
  field: string;
  error: string | undefined;
  hint?: string;
  unit?: string;
  children: (props: ControlProps) => ReactNode;
}) {
  const id = useId();
  const testId = testIdOf(field);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [error !== undefined ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ');
  return (
    <div className="form-field" data-invalid={error !== undefined}>
      <label htmlFor={id}>{label}</label>
      <div className="form-control">
        {children({
          id,
          className: 'input',
          'data-testid': testId,
          'aria-invalid': error !== undefined,
          'aria-describedby': described,
        })}
        {unit && <span className="form-unit muted">{unit}</span>}
      </div>
      {error !== undefined && (
        <p className="field-error" id={errorId} data-testid={`${testId}-error`}>
          {error}
        </p>
      )}
      {hint && (
        <p className="form-hint muted" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

function CheckRow({
  label,
  field,
  checked,
  onChange,
  hint,
  error,
}: {
  label: string;
  field: string;
  checked: boolean;
  onChange: (value: boolean) => void;
  hint: string;
  error: string | undefined;
}) {
  return (
    <Row label={label} field={field} hint={hint} error={error}>
      {(props) => (
        <input
          {...props}
          className="checkbox"
          type="checkbox"
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
        />
      )}
    </Row>
  );
}

const modeLabels: Record<ParamMode, string> = {
  search: 'search',
  fixed: 'fixed at',
  default: 'default',
};

function ParamRow({
  spec,
  draft,
  grid,
  errorAt,
  onEdit,
}: {
  spec: ParamSpec;
  draft: ParamDraft;
  grid: boolean;
  errorAt: (field: string) => string | undefined;
  onEdit: (key: keyof ParamDraft, value: string) => void;
}) {
  const key = `params.${spec.name}`;
  const useValues = grid && draft.values.trim() !== '';
  const fields: {
    k: keyof ParamDraft;
    label: string;
    show: boolean;
    placeholder?: string;
    wide?: boolean;
  }[] =
    draft.mode === 'search'
      ? [
          { k: 'min', label: 'minimum', show: !useValues },
          { k: 'max', label: 'maximum', show: !useValues },
          { k: 'step', label: 'step', show: grid && !useValues },
          { k: 'values', label: 'values', show: grid, placeholder: 'or values: 5, 10, 20', wide: true },
        ]
      : draft.mode === 'fixed'
        ? [{ k: 'value', label: 'value', show: true }]
        : [];
  const errors = [key, ...fields.filter((f) => f.show).map((f) => `${key}.${f.k}`)]
    .map((f) => errorAt(f))
    .filter((e): e is string => e !== undefined);
  const errorId = useId();
  const bounds = `${spec.kind === 'int' ? 'whole number' : 'number'} from ${spec.min} to ${spec.max}, default ${spec.default}`;
  return (
    <tr data-testid={`opt-param-${spec.name}`} data-mode={draft.mode}>
      <th scope="row" className="opt-param-name">
        <span>{spec.label}</span> <code className="muted">{spec.name}</code>
        <span className="opt-param-bounds muted" title={spec.description}>
          {bounds}
        </span>
      </th>
      <td>
        <select
          className="input"
          aria-label={`${spec.label}: how to use it`}
          data-testid={testIdOf(`${key}.mode`)}
          value={draft.mode}
          onChange={(e) => onEdit('mode', e.target.value)}
        >
          {(Object.keys(modeLabels) as ParamMode[]).map((m) => (
            <option key={m} value={m}>
              {modeLabels[m]}
            </option>
          ))}
        </select>
      </td>
      <td>
        <div className="opt-param-inputs">
          {draft.mode === 'default' && <span className="muted">{spec.default} (the strategy’s default)</span>}
          {fields
            .filter((f) => f.show)
            .map((f) => {
              const field = `${key}.${f.k}`;
              const bad = errorAt(field) !== undefined;
              return (
                <input
                  key={f.k}
                  className={f.wide ? 'input opt-values' : 'input opt-num'}
                  aria-label={`${spec.label} ${f.label}`}
                  aria-invalid={bad}
                  aria-describedby={errors.length > 0 ? errorId : undefined}
                  data-testid={testIdOf(field)}
                  data-invalid={bad}
                  inputMode="decimal"
                  spellCheck={false}
                  autoComplete="off"
                  placeholder={f.placeholder}
                  value={draft[f.k]}
                  onChange={(e) => onEdit(f.k, e.target.value)}
                />
              );
            })}
        </div>
        {errors.length > 0 && (
          <p className="field-error" id={errorId} data-testid={`${testIdOf(key)}-error`}>
            {errors.join('; ')}
          </p>
        )}
      </td>
    </tr>
  );
}
