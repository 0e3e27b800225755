/**
 * One search up close: what it searched (the request as stored, the strategy version it measured),
 * where its in-sample and out-of-sample parts lie, the gaps its range crossed, its progress, and
 * Cancel; below, its trials (table and heat map) and the chosen trial with its equity curve and
 * Apply to trader.
 */
import { useEffect, useState } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { OptimizerRun } from '../../../../shared/optimizer-api';
import { adviceFor, runAdvice } from '../../../../shared/optimizer-ui/advice';
import { formatScore } from '../../../../shared/optimizer-ui/heatmap';
import { objectiveLabels } from '../../../../shared/optimizer-ui/form';
import { formatPercent, isActive } from '../../../../shared/optimizer-ui/results';
import { useApi } from '../../connection-context';
import { formatDuration, formatLatency, formatTimestamp } from '../../lib/format';
import { readRun, useRun, useStrategy } from '../../stores/optimizer';
import { ErrorNote } from '../ErrorNote';
import { Field, Fields } from '../Fields';
import { AdviceNote } from './AdviceNote';
import { HeatMapPanel } from './HeatMap';
import { RunProgress } from './RunsTable';
import { RunStatus } from './RunStatus';
import { TrialDetail } from './TrialDetail';
import { TrialTable } from './TrialTable';

export function RunDetail({ runId }: { runId: number }) {
  const api = useApi();
  const run = useRun(runId);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  // A deep link to a run older than the first page: read it.
  useEffect(() => {
    if (run) return;
    let live = true;
    void readRun(api, runId).then((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [api, runId, run]);
  if (!run) {
    return (
      <section className="panel" data-testid="optimizer-run-missing">
        {error ? (
          <div className="feed-problem">
            <p>Run {runId} could not be read.</p>
            <ErrorNote error={error} testId="optimizer-run-error" />
            <AdviceNote advice={adviceFor('runs', error)} testId="optimizer-run-advice" />
          </div>
        ) : (
          <p className="muted">Reading run {runId}…</p>
        )}
      </section>
    );
  }
  return <LoadedRun run={run} />;
}

function LoadedRun({ run }: { run: OptimizerRun }) {
  const [trialId, setTrialId] = useState<number | null>(null);
  return (
    <div className="opt-run" data-testid="optimizer-run-detail" data-run={run.id} data-status={run.status}>
      <RunSummary run={run} />
      <TrialTable run={run} selected={trialId} onSelect={setTrialId} />
      <div className="opt-results">
        <HeatMapPanel run={run} onSelect={setTrialId} />
        <TrialDetail run={run} trialId={trialId} />
      </div>
    </div>
  );
}

function RunSummary({ run }: { run: OptimizerRun }) {
  const api = useApi();
  const current = useStrategy(run.request.strategy);
  const [cancelError, setCancelError] = useState<ApiErrorShape | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const r = run.request;
  const split: number | null = run.split;
  const advice = runAdvice(run);

  const cancel = async (): Promise<void> => {
    setCancelling(true);
    setCancelError(null);
    const res = await api.optimizer.cancel({ id: run.id });
    setCancelling(false);
    if (!res.ok) setCancelError(res.error);
    // The new state arrives with its progress event.
  };

  return (
    <section className="panel opt-summary" aria-labelledby="opt-run-title">
      <header className="detail-head">
        <h2 id="opt-run-title">Run #{run.id}</h2>
        <RunStatus status={run.status} testId="optimizer-run-detail-status" />
        <span className="actions">
          {isActive(run.status) && (
            <button
              type="button"
              className="btn btn-small btn-danger"
              data-testid="optimizer-cancel"
              disabled={cancelling}
              onClick={() => void cancel()}
            >
              {cancelling ? 'Cancelling…' : 'Cancel search'}
            </button>
          )}
        </span>
      </header>
      <div className="opt-summary-progress" data-testid="optimizer-run-detail-progress">
        <RunProgress run={run} />
        {run.progress.best && (
          <span className="muted">
            best so far: trial {run.progress.best.trialId}, score {formatScore(run.progress.best.score)}
          </span>
        )}
        {run.skipped > 0 && (
          <span className="muted" title="Parameter sets the strategy's own rules refuse are not trials">
            {run.skipped.toLocaleString('en')} parameter sets skipped by the strategy’s rules
          </span>
        )}
      </div>
      {run.note && (
        <p className="form-note" data-testid="optimizer-run-note">
          {run.note}
        </p>
      )}
      {run.error && (
        <p className="opt-run-error" data-testid="optimizer-run-error-text" role="alert">
          {run.status === 'cancelled' ? 'Cancelled: ' : 'Failed: '}
          {run.error}
        </p>
      )}
      <AdviceNote advice={advice} testId="optimizer-run-advice" />
      {cancelError && <ErrorNote error={cancelError} testId="optimizer-cancel-error" />}
      <div className="opt-facts">
        <Fields>
          <Field label="Strategy" testId="optimizer-run-strategy">
            {current?.label ?? r.strategy} <code>{r.strategy}</code>{' '}
            <span data-testid="optimizer-run-version">version {run.strategyVersion}</span>
            {current && current.version !== run.strategyVersion && (
              <span className="text-warn" data-testid="optimizer-run-version-changed">
                {' '}
                (now version {current.version}: these results measured the older logic and cannot be applied)
              </span>
            )}
          </Field>
          <Field label="Market">
            <span className="mono">
              {r.venue} {r.symbol}
            </span>{' '}
            · {r.resolution} candles
            {run.candles !== null ? `, ${run.candles.toLocaleString('en')} loaded` : ''}
          </Field>
          <Field label="In sample" testId="optimizer-run-in-sample">
            {formatTimestamp(r.from)} → {split !== null ? formatTimestamp(split) : '…'}
          </Field>
          <Field label="Out of sample" testId="optimizer-run-out-of-sample">
            {r.outOfSample === 0 ? (
              <span className="muted">none</span>
            ) : (
              <>
                {split !== null ? formatTimestamp(split) : '…'} → {formatTimestamp(r.to)}{' '}
                <span className="muted">
                  (the last {formatPercent(r.outOfSample, 0)}, never used to choose)
                </span>
              </>
            )}
          </Field>
          <Field label="Objective">
            {objectiveLabels[r.objective]} in sample
            {r.constraints.maxDrawdown !== undefined &&
              `; drawdown at most ${formatPercent(r.constraints.maxDrawdown, 1)}`}
            {r.constraints.minTrades !== undefined && `; at least ${r.constraints.minTrades} trades`}
          </Field>
          <Field label="Search">{spaceWords(run)}</Field>
          <Field label="Costs">
            fee {r.costs.feeBps} bps · slippage {r.costs.slippageBps} bps · latency{' '}
            {formatLatency(r.costs.latencyMs)} · equity {r.initialEquity.toLocaleString('en')}
            {r.allowShort ? ' · shorts allowed' : ' · long only'}
          </Field>
          <Field label="Times">
            submitted {formatTimestamp(run.createdAt)}
            {run.startedAt !== null && `, started ${formatTimestamp(run.startedAt)}`}
            {run.finishedAt !== null &&
              `, ended ${formatTimestamp(run.finishedAt)} (${formatDuration(run.finishedAt - (run.startedAt ?? run.createdAt))})`}
          </Field>
        </Fields>
        <Gaps run={run} />
      </div>
    </section>
  );
}

function spaceWords(run: OptimizerRun): string {
  const s = run.request.space;
  const params = Object.entries(s.params)
    .map(([name, g]) =>
      'values' in g
        ? `${name} ∈ {${g.values.join(', ')}}`
        : 'step' in g
          ? `${name} ${g.min}…${g.max} by ${g.step}`
          : `${name} ${g.min}…${g.max}`,
    )
    .join('; ');
  const fixed = Object.entries(run.request.fixed)
    .map(([k, v]) => `${k} = ${v}`)
    .join(', ');
  const kind = s.type === 'grid' ? 'grid' : `random, ${s.budget} draws, seed ${s.seed ?? 'chosen at start'}`;
  return `${kind}: ${params}${fixed ? `; fixed ${fixed}` : ''}`;
}

/** The recorded gaps the run's range crossed: a result across them is worth less. */
function Gaps({ run }: { run: OptimizerRun }) {
  const gaps = run.gaps;
  return (
    <div className="opt-gaps" data-testid="optimizer-run-gaps" data-count={gaps?.length ?? ''}>
      <h3 className="opt-subtitle">Gaps crossed</h3>
      {gaps === null ? (
        <p className="muted">
          Known once the optimizer has loaded the data
          {run.request.allowGaps ? ' (this run may cross gaps).' : ' (this run refuses ranges with gaps).'}
        </p>
      ) : gaps.length === 0 ? (
        <p className="muted">None: the recorded data is continuous over the range.</p>
      ) : (
        <ul className="opt-gap-list">
          {gaps.map((g) => (
            <li key={g.id} data-testid="optimizer-run-gap">
              <span className="mono">{formatTimestamp(g.start)}</span>{' '}
              {g.end === null ? 'still open' : `for ${formatLatency(g.end - g.start)}`}: {g.description}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
