/**
 * The chosen trial: its parameters, its metrics in sample and out of sample side by side, its equity
 * curves (recharts, no animation; the split marked), and Apply to trader, which writes the parameters
 * into a trader service's configuration (`config.strategy`) after a confirmation that names the
 * trader, the strategy and the parameters, and says it takes effect at the trader's reload.
 */
import { memo, useEffect, useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { ApiErrorShape } from '../../../../shared/errors';
import type {
  EquityPoint,
  OptimizerRun,
  OptimizerTrialDetail,
  TrialMetrics,
} from '../../../../shared/optimizer-api';
import { adviceFor } from '../../../../shared/optimizer-ui/advice';
import { objectiveLabels } from '../../../../shared/optimizer-ui/form';
import { formatParam } from '../../../../shared/optimizer-ui/heatmap';
import {
  formatNumber,
  formatPercent,
  orderedParams,
  paramsWords,
} from '../../../../shared/optimizer-ui/results';
import type { ServiceInfo } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import { formatLatency, formatTimestamp } from '../../lib/format';
import { hrefFor } from '../../lib/route';
import { useStrategy } from '../../stores/optimizer';
import { useServiceList, useServicesStore } from '../../stores/services';
import { ConfirmDialog } from '../dashboard/ConfirmDialog';
import { ErrorNote } from '../ErrorNote';
import { StateBadge } from '../StateBadge';
import { AdviceNote } from './AdviceNote';
import '../../styles/dashboard.css';
import { axisTick, tooltipStyle } from '../../lib/chart-style';

export function TrialDetail({ run, trialId }: { run: OptimizerRun; trialId: number | null }) {
  const api = useApi();
  const [trial, setTrial] = useState<OptimizerTrialDetail | null>(null);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  useEffect(() => {
    if (trialId === null) return;
    let live = true;
    void api.optimizer.trial({ runId: run.id, trialId }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setTrial(r.result);
        setError(null);
      } else {
        setTrial(null);
        setError(r.error);
      }
    });
    return () => {
      live = false;
    };
  }, [api, run.id, trialId]);

  const shown = trial !== null && trial.id === trialId ? trial : null;
  return (
    <section
      className="panel opt-trial"
      data-testid="optimizer-trial"
      data-trial={shown?.id ?? ''}
      aria-labelledby="opt-trial-title"
    >
      <h2 className="section-title" id="opt-trial-title">
        {trialId === null ? 'Trial' : `Trial #${trialId}`}
      </h2>
      {trialId === null ? (
        <p className="empty" data-testid="optimizer-trial-none">
          Choose a trial in the table or a cell of the heat map to see its equity curve, its metrics in and
          out of sample, and to apply it to a trader.
        </p>
      ) : error ? (
        <div className="feed-problem">
          <ErrorNote error={error} testId="optimizer-trial-error" />
          <AdviceNote advice={adviceFor('trial', error)} testId="optimizer-trial-advice" />
        </div>
      ) : shown === null ? (
        <p className="muted">Reading trial {trialId}…</p>
      ) : (
        <LoadedTrial run={run} trial={shown} />
      )}
    </section>
  );
}

function LoadedTrial({ run, trial }: { run: OptimizerRun; trial: OptimizerTrialDetail }) {
  const searched = Object.keys(run.request.space.params);
  const fixed = Object.keys(run.request.fixed);
  return (
    <>
      <ul className="opt-trial-params" data-testid="optimizer-trial-params" aria-label="Parameters">
        {orderedParams(trial.params, searched).map((name) => (
          <li key={name} data-param={name}>
            <span className="muted">{name}</span>{' '}
            <strong className="mono">{formatParam(trial.params[name]!)}</strong>
            <span className="opt-param-origin muted">
              {searched.includes(name) ? 'searched' : fixed.includes(name) ? 'fixed' : 'default'}
            </span>
          </li>
        ))}
      </ul>
      {trial.status === 'failed' && (
        <p className="opt-run-error" role="alert">
          This trial failed: {trial.error ?? 'no reason given'}.
        </p>
      )}
      <MetricsTable run={run} trial={trial} />
      <EquityChart run={run} trial={trial} />
      <ApplyToTrader run={run} trial={trial} />
    </>
  );
}

const metricRows: { label: string; get: (m: TrialMetrics) => string }[] = [
  { label: 'Total return', get: (m) => formatPercent(m.totalReturn) },
  { label: 'Sharpe', get: (m) => formatNumber(m.sharpe, 2) },
  { label: 'Sortino', get: (m) => formatNumber(m.sortino, 2) },
  { label: 'Calmar', get: (m) => formatNumber(m.calmar, 2) },
  { label: 'Max drawdown', get: (m) => formatPercent(m.maxDrawdown, 1) },
  { label: 'Win rate', get: (m) => formatPercent(m.winRate, 0) },
  { label: 'Trades', get: (m) => m.trades.toLocaleString('en') },
  { label: 'Exposure', get: (m) => formatPercent(m.exposure, 0) },
  { label: 'Fees', get: (m) => m.fees.toLocaleString('en', { maximumFractionDigits: 2 }) },
  { label: 'Final equity', get: (m) => m.finalEquity.toLocaleString('en', { maximumFractionDigits: 2 }) },
  { label: 'Candles', get: (m) => m.candles.toLocaleString('en') },
  { label: 'Ruined', get: (m) => (m.ruined ? 'yes: equity reached 0' : 'no') },
];

function MetricsTable({ run, trial }: { run: OptimizerRun; trial: OptimizerTrialDetail }) {
  const none = run.request.outOfSample === 0 ? 'none' : '—';
  return (
    <div className="table-wrap">
      <table className="table opt-metrics" data-testid="optimizer-trial-metrics">
        <thead>
          <tr>
            <th scope="col">metric</th>
            <th scope="col" className="num">
              in sample
            </th>
            <th scope="col" className="num">
              out of sample
            </th>
          </tr>
        </thead>
        <tbody>
          <tr className="opt-score-row">
            <th scope="row">{objectiveLabels[run.request.objective]} (score)</th>
            <td className="num" data-testid="optimizer-trial-score">
              {formatNumber(trial.score)}
            </td>
            <td className="num" data-testid="optimizer-trial-oos-score">
              {run.request.outOfSample === 0 ? none : formatNumber(trial.outOfSampleScore)}
            </td>
          </tr>
          <tr>
            <th scope="row">Meets the constraints</th>
            <td className="num">{trial.meetsConstraints ? 'yes' : 'no'}</td>
            <td className="num muted">not judged</td>
          </tr>
          {metricRows.map((row) => (
            <tr key={row.label}>
              <th scope="row">{row.label}</th>
              <td className="num">{trial.inSample ? row.get(trial.inSample) : '—'}</td>
              <td className="num">{trial.outOfSample ? row.get(trial.outOfSample) : none}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
function tick(t: number, rangeMs: number): string {
  const d = new Date(t);
  if (rangeMs > 2 * 86_400_000) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (rangeMs > 3_600_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const toPoints = (points: readonly EquityPoint[]) => points.map((p) => ({ t: p.at, v: p.equity }));

const EquityChart = memo(function EquityChart({
  run,
  trial,
}: {
  run: OptimizerRun;
  trial: OptimizerTrialDetail;
}) {
  const inSample = useMemo(() => toPoints(trial.equity.inSample), [trial]);
  const outOfSample = useMemo(() => toPoints(trial.equity.outOfSample), [trial]);
  const all = [...inSample, ...outOfSample];
  const split: number | null = run.split;
  const points = all.length;
  const from = all[0]?.t ?? run.request.from;
  const to = all.at(-1)?.t ?? run.request.to;
  const money = (v: number) => v.toLocaleString('en', { maximumFractionDigits: 0 });
  return (
    <figure
      className="opt-equity"
      data-testid="optimizer-equity"
      data-points={points}
      data-in-sample={inSample.length}
      data-out-of-sample={outOfSample.length}
    >
      <figcaption className="opt-equity-title">
        Equity <span className="opt-swatch opt-swatch-in" aria-hidden="true" /> in sample
        <span className="opt-swatch opt-swatch-out" aria-hidden="true" /> out of sample (starts again from the
        initial equity)
      </figcaption>
      {points === 0 ? (
        <p className="muted" data-testid="optimizer-equity-empty">
          No equity curve: the trial measured no candles.
        </p>
      ) : (
        <LineChart
          responsive
          style={{ width: '100%', height: 220 }}
          margin={{ top: 8, right: 10, bottom: 0, left: 0 }}
          title={`Equity of trial ${trial.id}`}
        >
          <CartesianGrid stroke="var(--border)" strokeDasharray="2 4" vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={[from, to]}
            tickFormatter={(t: number) => tick(t, to - from)}
            tick={axisTick}
            stroke="var(--border-strong)"
            minTickGap={48}
          />
          <YAxis
            dataKey="v"
            domain={['auto', 'auto']}
            tickFormatter={money}
            tick={axisTick}
            stroke="var(--border-strong)"
            width={72}
          />
          <Tooltip
            isAnimationActive={false}
            contentStyle={tooltipStyle}
            labelFormatter={(label) => (typeof label === 'number' ? formatTimestamp(label) : label)}
            formatter={(value) => (typeof value === 'number' ? money(value) : String(value ?? '—'))}
          />
          {split !== null && outOfSample.length > 0 && (
            <ReferenceLine x={split} stroke="var(--text-dim)" strokeDasharray="3 3" />
          )}
          <Line
            data={inSample}
            dataKey="v"
            name="in sample"
            stroke="var(--accent)"
            strokeWidth={1.5}
            dot={false}
            type="linear"
            isAnimationActive={false}
          />
          <Line
            data={outOfSample}
            dataKey="v"
            name="out of sample"
            stroke="var(--tone-ok)"
            strokeWidth={1.5}
            dot={false}
            type="linear"
            isAnimationActive={false}
          />
        </LineChart>
      )}
    </figure>
  );
});

/** The `config.strategy` a trader holds now, in words (null: none written). */
function currentStrategyWords(info: ServiceInfo): string | null {
  const config = info.definition.config;
  const s = config && typeof config === 'object' ? (config as Record<string, unknown>).strategy : undefined;
  if (!s || typeof s !== 'object') return null;
  const { id, version, params } = s as { id?: unknown; version?: unknown; params?: unknown };
  const words =
    params && typeof params === 'object' ? paramsWords(params as Record<string, number>) : 'no parameters';
  return `${typeof id === 'string' ? id : '?'}${typeof version === 'number' ? ` v${version}` : ''}: ${words}`;
}

function ApplyToTrader({ run, trial }: { run: OptimizerRun; trial: OptimizerTrialDetail }) {
  const api = useApi();
  const strategy = useStrategy(run.request.strategy);
  const services = useServiceList();
  const traders = useMemo(() => services.filter((s) => s.kind === 'trader'), [services]);
  const [chosen, setChosen] = useState<string | null>(null);
  const service = traders.find((t) => t.name === chosen) ?? traders[0];
  const [confirming, setConfirming] = useState(false);
  const [applying, setApplying] = useState(false);
  const [applied, setApplied] = useState<{ service: string; trialId: number } | null>(null);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const searched = Object.keys(run.request.space.params);
  const params = paramsWords(trial.params, orderedParams(trial.params, searched));
  const label = strategy?.label ?? run.request.strategy;

  const blocked =
    trial.status !== 'done'
      ? 'This trial failed: there is nothing to apply.'
      : strategy && strategy.version !== run.strategyVersion
        ? `${label} is at version ${strategy.version} now; this search measured version ${run.strategyVersion}: run it again to apply a result.`
        : null;

  const appliedTo = applied ? traders.find((t) => t.name === applied.service) : undefined;
  const [reloading, setReloading] = useState(false);
  const reload = async (name: string): Promise<void> => {
    setReloading(true);
    setError(null);
    // Without config: the saved definition's, the one just written.
    const r = await api.services.reload({ name });
    setReloading(false);
    if (r.ok) useServicesStore.getState().upsert(r.result);
    else setError(r.error);
  };

  const apply = async (): Promise<void> => {
    if (!service) return;
    setConfirming(false);
    setApplying(true);
    setError(null);
    const r = await api.optimizer.apply({ runId: run.id, trialId: trial.id, service: service.name });
    setApplying(false);
    if (r.ok) {
      useServicesStore.getState().upsert(r.result);
      setApplied({ service: r.result.name, trialId: trial.id });
    } else setError(r.error);
  };

  return (
    <div className="opt-apply" data-testid="optimizer-apply">
      <h3 className="opt-subtitle">Apply to trader</h3>
      {traders.length === 0 ? (
        <p className="muted" data-testid="optimizer-apply-no-trader">
          No trader service is configured: add a service of kind <strong>trader</strong> in{' '}
          <a href={hrefFor('services')}>Services</a>, then apply this trial to it.
        </p>
      ) : (
        <>
          <div className="opt-apply-row">
            <label className="filter">
              <span className="filter-label">Trader service</span>
              <select
                className="input"
                data-testid="optimizer-apply-service"
                value={service?.name}
                onChange={(e) => {
                  setChosen(e.target.value);
                  setApplied(null);
                }}
              >
                {traders.map((t) => (
                  <option key={t.name} value={t.name}>
                    {t.name} ({t.state})
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="btn btn-primary"
              data-testid="optimizer-apply-button"
              disabled={blocked !== null || applying || !service}
              aria-describedby={blocked ? 'opt-apply-blocked' : undefined}
              onClick={() => setConfirming(true)}
            >
              {applying ? 'Applying…' : 'Apply to trader…'}
            </button>
          </div>
          {blocked && (
            <p className="muted" id="opt-apply-blocked" data-testid="optimizer-apply-blocked">
              {blocked}
            </p>
          )}
          {service && currentStrategyWords(service) && (
            <p className="muted" data-testid="optimizer-apply-current">
              {service.name} holds {currentStrategyWords(service)}.
            </p>
          )}
        </>
      )}
      {applied && (
        <div className="form-note" role="status" data-testid="optimizer-apply-done">
          Trial {applied.trialId}’s parameters are written into {applied.service}’s configuration
          (config.strategy).{' '}
          {appliedTo?.state === 'running' ? (
            <>
              {applied.service} trades as before until it reloads them (it buffers market data meanwhile and
              misses nothing).{' '}
              <button
                type="button"
                className="btn btn-small"
                data-testid="optimizer-apply-reload"
                disabled={reloading}
                onClick={() => void reload(applied.service)}
              >
                {reloading ? 'Reloading…' : `Reload ${applied.service} now`}
              </button>
            </>
          ) : appliedTo?.state === 'reloading' ? (
            <>{applied.service} is reloading them.</>
          ) : (
            <>{applied.service} uses them from its next start.</>
          )}
        </div>
      )}
      {error && (
        <div className="feed-problem">
          <ErrorNote error={error} testId="optimizer-apply-error" />
          <AdviceNote advice={adviceFor('apply', error)} testId="optimizer-apply-advice" />
        </div>
      )}
      {confirming && service && (
        <ConfirmDialog
          title={`Apply trial ${trial.id} to ${service.name}?`}
          confirmLabel={`Apply to ${service.name}`}
          onConfirm={() => void apply()}
          onCancel={() => setConfirming(false)}
          testId="optimizer-apply-dialog"
          data={{ 'data-service': service.name }}
        >
          <dl className="dash-dialog-facts">
            <dt>Trader service</dt>
            <dd data-testid="optimizer-apply-dialog-service">
              {service.name} <StateBadge state={service.state} />
            </dd>
            <dt>Strategy</dt>
            <dd data-testid="optimizer-apply-dialog-strategy">
              {label} <code>{run.request.strategy}</code> version {run.strategyVersion}
            </dd>
            <dt>Parameters</dt>
            <dd className="mono" data-testid="optimizer-apply-dialog-params">
              {params}
            </dd>
            <dt>Measured</dt>
            <dd>
              run #{run.id}, {run.request.venue} {run.request.symbol}: score {formatNumber(trial.score)} in
              sample, {formatNumber(trial.outOfSampleScore)} out of sample
            </dd>
            {currentStrategyWords(service) && (
              <>
                <dt>Replaces</dt>
                <dd>{currentStrategyWords(service)}</dd>
              </>
            )}
          </dl>
          <p className="dash-dialog-text" data-testid="optimizer-apply-dialog-reload">
            This writes the parameters into {service.name}’s configuration (config.strategy). It takes effect
            at the trader’s reload: until {service.name} reloads its configuration, it keeps trading with its
            current strategy settings.
            {service.state === 'running' && ' It is running now.'}
          </p>
        </ConfirmDialog>
      )}
      <p className="muted opt-apply-hint">
        Costs measured: fee {run.request.costs.feeBps} bps, slippage {run.request.costs.slippageBps} bps,
        latency {formatLatency(run.request.costs.latencyMs)}.
      </p>
    </div>
  );
}
