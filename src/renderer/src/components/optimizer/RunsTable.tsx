/**
 * The parameter searches, newest first: status, progress (live from `optimizer.progress`), the best
 * score so far, and what each searched. A row opens the run below (its address is #/optimizer/<id>).
 */
import type { OptimizerRun } from '../../../../shared/optimizer-api';
import { adviceFor } from '../../../../shared/optimizer-ui/advice';
import { formatScore } from '../../../../shared/optimizer-ui/heatmap';
import { isActive, progressShare, progressWords } from '../../../../shared/optimizer-ui/results';
import { useApi } from '../../connection-context';
import { formatDuration, formatTimestamp } from '../../lib/format';
import { hrefFor } from '../../lib/route';
import { loadOlderRuns, loadRuns, useOptimizerStore, useRunList } from '../../stores/optimizer';
import { ErrorNote } from '../ErrorNote';
import { AdviceNote } from './AdviceNote';
import { RunStatus } from './RunStatus';

export function RunsPanel({ selected }: { selected: number | null }) {
  const api = useApi();
  const runs = useRunList();
  const loaded = useOptimizerStore((s) => s.runsLoaded);
  const error = useOptimizerStore((s) => s.runsError);
  const total = useOptimizerStore((s) => s.runsTotal);
  const more = useOptimizerStore((s) => s.runsNext !== null);
  return (
    <section className="panel opt-runs" data-testid="optimizer-runs" aria-labelledby="opt-runs-title">
      <h2 className="section-title" id="opt-runs-title">
        Searches
      </h2>
      {error && (
        <div className="feed-problem" data-testid="optimizer-runs-error">
          <p>The searches could not be read.</p>
          <ErrorNote error={error} testId="optimizer-runs-error-note" />
          <AdviceNote advice={adviceFor('runs', error)} testId="optimizer-runs-advice" />
          <button type="button" className="btn btn-small" onClick={() => void loadRuns(api)}>
            Try again
          </button>
        </div>
      )}
      {!loaded ? (
        !error && <p className="muted">Reading the searches…</p>
      ) : runs.length === 0 ? (
        <p className="empty" data-testid="optimizer-runs-empty">
          No searches yet: set one up in the form and start it. Each run and its trials are kept, so results
          stay here across restarts.
        </p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table opt-runs-table" data-testid="optimizer-runs-table">
              <thead>
                <tr>
                  <th scope="col">run</th>
                  <th scope="col">searched</th>
                  <th scope="col" className="wide">
                    status and progress
                  </th>
                  <th scope="col" className="num">
                    best score
                  </th>
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => (
                  <RunRow key={run.id} run={run} selected={run.id === selected} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="feed-foot">
            {more && (
              <button
                type="button"
                className="btn btn-small"
                data-testid="optimizer-runs-more"
                onClick={() => void loadOlderRuns(api)}
              >
                Older searches
              </button>
            )}
            <span className="muted">
              {runs.length} of {total} shown
            </span>
          </div>
        </>
      )}
    </section>
  );
}

function RunRow({ run, selected }: { run: OptimizerRun; selected: boolean }) {
  const r = run.request;
  const href = hrefFor('optimizer', String(run.id));
  return (
    <tr
      data-testid={`optimizer-run-${run.id}`}
      data-status={run.status}
      data-done={run.progress.done}
      data-total={run.progress.total}
      aria-selected={selected}
      className="clickable"
      onClick={() => {
        window.location.hash = href;
      }}
    >
      <td className="mono">
        <a href={href} className="row-link" aria-label={`Open run ${run.id}`}>
          #{run.id}
        </a>
      </td>
      <td className="opt-run-what">
        <span>
          {r.strategy} <span className="muted">v{run.strategyVersion}</span>
        </span>
        <span className="mono muted">
          {r.venue} {r.symbol} {r.resolution}
        </span>
        <span className="muted opt-run-time">{formatTimestamp(run.createdAt)}</span>
      </td>
      <td>
        <div className="opt-progress-cell">
          <RunStatus status={run.status} testId={`optimizer-run-status-${run.id}`} />
          <RunProgress run={run} />
        </div>
      </td>
      <td className="num">{formatScore(run.progress.best?.score ?? null)}</td>
    </tr>
  );
}

/** The progress bar with its figures; the ETA while it runs. */
export function RunProgress({ run }: { run: OptimizerRun }) {
  const words = progressWords(run);
  const eta = isActive(run.status) && run.progress.etaMs !== null ? formatDuration(run.progress.etaMs) : null;
  return (
    <span className="opt-progress">
      <progress
        max={1}
        value={progressShare(run)}
        aria-label={`Run ${run.id}: ${words} trials`}
        data-testid={`optimizer-run-progress-${run.id}`}
      />
      <span className="num opt-progress-words">
        {words}
        {eta && <span className="muted"> · about {eta} left</span>}
      </span>
    </span>
  );
}
