/**
 * A run's trials, sorted by the core (`optimizer.trials`) on any metric in or out of sample, paged,
 * optionally only those meeting the run's constraints. In-sample and out-of-sample figures sit side by
 * side. Column headers are buttons (aria-sort on the header); a row's id opens the trial.
 */
import { useEffect, useMemo, useState } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { OptimizerRun, OptimizerTrialPage } from '../../../../shared/optimizer-api';
import { adviceFor } from '../../../../shared/optimizer-ui/advice';
import { formatParam } from '../../../../shared/optimizer-ui/heatmap';
import {
  ariaSort,
  defaultTrialSort,
  nextSort,
  sortWords,
  trialColumns,
  type TrialColumn,
  type TrialSort,
} from '../../../../shared/optimizer-ui/results';
import { useApi } from '../../connection-context';
import { ErrorNote } from '../ErrorNote';
import { AdviceNote } from './AdviceNote';
import { useTrialsKey } from './hooks';

const PAGE = 50;
const REFRESH_MS = 2000;

const groupLabels = {
  trial: '',
  score: 'score',
  inSample: 'in sample',
  outOfSample: 'out of sample',
} as const;

export function TrialTable({
  run,
  selected,
  onSelect,
}: {
  run: OptimizerRun;
  selected: number | null;
  onSelect: (trialId: number) => void;
}) {
  const api = useApi();
  const [sort, setSort] = useState<TrialSort>(defaultTrialSort);
  const [offset, setOffset] = useState(0);
  const [onlyMeeting, setOnlyMeeting] = useState(false);
  const [page, setPage] = useState<OptimizerTrialPage | null>(null);
  const [error, setError] = useState<ApiErrorShape | null>(null);
  const key = useTrialsKey(run, REFRESH_MS);
  const searched = useMemo(() => Object.keys(run.request.space.params), [run.request.space.params]);
  const hasConstraints =
    run.request.constraints.maxDrawdown !== undefined || run.request.constraints.minTrades !== undefined;

  useEffect(() => {
    let live = true;
    void api.optimizer
      .trials({
        runId: run.id,
        sort: sort.sort,
        sample: sort.sample,
        order: sort.order,
        limit: PAGE,
        offset,
        ...(onlyMeeting ? { meetsConstraints: true } : {}),
      })
      .then((r) => {
        if (!live) return;
        if (r.ok) {
          setPage(r.result);
          setError(null);
        } else setError(r.error);
      });
    return () => {
      live = false;
    };
  }, [api, run.id, sort, offset, onlyMeeting, key]);

  const columns = trialColumns.filter((c) => c.id !== 'durationMs');
  const durationColumn = trialColumns.find((c) => c.id === 'durationMs')!;
  const groups = groupSpans([...columns, durationColumn], searched.length);
  const total = page?.total ?? 0;
  const setSortAndReset = (column: TrialColumn): void => {
    setSort((s) => nextSort(s, column));
    setOffset(0);
  };

  return (
    <section className="panel opt-trials" data-testid="optimizer-trials" aria-labelledby="opt-trials-title">
      <div className="opt-panel-head">
        <h2 className="section-title" id="opt-trials-title">
          Trials
        </h2>
        {hasConstraints && (
          <label className="opt-check">
            <input
              type="checkbox"
              data-testid="optimizer-trials-meeting"
              checked={onlyMeeting}
              onChange={(e) => {
                setOnlyMeeting(e.target.checked);
                setOffset(0);
              }}
            />
            only trials meeting the constraints
          </label>
        )}
        <span className="muted opt-sort-words" role="status" data-testid="optimizer-trials-sort">
          {sortWords(sort)}
        </span>
      </div>
      {error && (
        <div className="feed-problem">
          <ErrorNote error={error} testId="optimizer-trials-error" />
          <AdviceNote advice={adviceFor('trials', error)} testId="optimizer-trials-advice" />
        </div>
      )}
      {page === null ? (
        !error && <p className="muted">Reading the trials…</p>
      ) : page.items.length === 0 ? (
        <p className="empty" data-testid="optimizer-trials-empty">
          {run.status === 'queued'
            ? 'No trials yet: the search has not started.'
            : onlyMeeting
              ? 'No trial meets the constraints (yet).'
              : run.status === 'running'
                ? 'No trials finished yet: they appear here as they do.'
                : 'This search has no trials.'}
        </p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table opt-trial-table" data-testid="optimizer-trial-table">
              <thead>
                <tr className="opt-group-row">
                  {groups.map((g, i) => (
                    <th
                      key={i}
                      colSpan={g.span}
                      scope="colgroup"
                      className={g.label ? 'opt-group' : undefined}
                    >
                      {g.label}
                    </th>
                  ))}
                </tr>
                <tr>
                  {columns.slice(0, 1).map((c) => (
                    <SortHeader key={c.id} column={c} sort={sort} onSort={setSortAndReset} />
                  ))}
                  {searched.map((p) => (
                    <th key={p} scope="col" className="num opt-param-col">
                      {p}
                    </th>
                  ))}
                  {columns.slice(1).map((c) => (
                    <SortHeader key={c.id} column={c} sort={sort} onSort={setSortAndReset} />
                  ))}
                  <th scope="col" title="Meets the run's constraints in sample">
                    ok
                  </th>
                  <SortHeader column={durationColumn} sort={sort} onSort={setSortAndReset} />
                </tr>
              </thead>
              <tbody>
                {page.items.map((t) => (
                  <tr
                    key={t.id}
                    data-testid="optimizer-trial-row"
                    data-trial={t.id}
                    data-status={t.status}
                    aria-selected={t.id === selected}
                    className="clickable"
                    onClick={() => onSelect(t.id)}
                  >
                    <td className="num">
                      <button
                        type="button"
                        className="btn-inline"
                        data-testid={`optimizer-trial-open-${t.id}`}
                        aria-label={`Open trial ${t.id}`}
                        onClick={(e) => {
                          e.stopPropagation();
                          onSelect(t.id);
                        }}
                      >
                        {t.id}
                      </button>
                    </td>
                    {searched.map((p) => (
                      <td key={p} className="num mono">
                        {t.params[p] === undefined ? '—' : formatParam(t.params[p])}
                      </td>
                    ))}
                    {columns.slice(1).map((c) => (
                      <td key={c.id} className="num" data-col={c.id} data-value={c.value(t) ?? ''}>
                        {c.format(c.value(t))}
                      </td>
                    ))}
                    <td>
                      {t.status === 'failed' ? (
                        <span className="text-bad" title={t.error ?? undefined}>
                          failed
                        </span>
                      ) : t.meetsConstraints ? (
                        <span className="pill pill-ok">yes</span>
                      ) : (
                        <span className="pill pill-bad">no</span>
                      )}
                    </td>
                    <td className="num muted">{durationColumn.format(durationColumn.value(t))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="feed-foot">
            <button
              type="button"
              className="btn btn-small"
              data-testid="optimizer-trials-prev"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE))}
            >
              Previous
            </button>
            <button
              type="button"
              className="btn btn-small"
              data-testid="optimizer-trials-next"
              disabled={offset + PAGE >= total}
              onClick={() => setOffset(offset + PAGE)}
            >
              Next
            </button>
            <span className="muted" data-testid="optimizer-trials-count">
              {offset + 1}–{Math.min(total, offset + page.items.length)} of {total.toLocaleString('en')}{' '}
              trials
            </span>
          </div>
        </>
      )}
    </section>
  );
}

function SortHeader({
  column,
  sort,
  onSort,
}: {
  column: TrialColumn;
  sort: TrialSort;
  onSort: (column: TrialColumn) => void;
}) {
  const state = ariaSort(sort, column);
  return (
    <th scope="col" aria-sort={state} className={column.id === 'id' ? undefined : 'num'}>
      <button
        type="button"
        className="opt-sort"
        title={column.title}
        aria-label={`${column.title}: sort`}
        data-testid={`optimizer-sort-${column.id}`}
        data-sort={state}
        onClick={() => onSort(column)}
      >
        {column.label}
        <span aria-hidden="true" className="opt-sort-mark">
          {state === 'ascending' ? '▲' : state === 'descending' ? '▼' : ''}
        </span>
      </button>
    </th>
  );
}

/** The group header row: the id, the parameters, the scores, then each sample's metrics. */
function groupSpans(columns: readonly TrialColumn[], params: number): { label: string; span: number }[] {
  const spans: { label: string; span: number }[] = [{ label: '', span: 1 }];
  if (params > 0) spans.push({ label: 'parameters', span: params });
  for (const c of columns.slice(1)) {
    const label = groupLabels[c.group];
    const last = spans.at(-1)!;
    if (last.label === label && c.group !== 'trial') last.span += 1;
    else spans.push({ label, span: 1 });
  }
  // The "ok" column sits before the duration.
  spans.splice(spans.length - 1, 0, { label: '', span: 1 });
  return spans;
}
