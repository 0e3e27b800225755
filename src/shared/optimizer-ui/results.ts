/**
 * The Optimizer page's results as pure functions: the trial table's columns and how a click on a
 * column header changes the sort `optimizer.trials` is asked for, runs kept current by
 * `optimizer.progress` events, and the figures as the page prints them.
 *
 * In src/shared only so plain Node tests can import it; the renderer is its one user.
 */
import type {
  OptimizerProgressEvent,
  OptimizerRun,
  OptimizerRunStatus,
  OptimizerTrial,
  TrialMetrics,
  TrialSortKey,
} from '../optimizer-api';

// ---- trial table ----

export type Sample = 'inSample' | 'outOfSample';
export type Order = 'asc' | 'desc';

export interface TrialSort {
  sort: TrialSortKey;
  sample: Sample;
  order: Order;
}

type MetricKey = 'totalReturn' | 'sharpe' | 'maxDrawdown' | 'trades' | 'winRate';

export interface TrialColumn {
  /** Unique among the columns: the sort key, and the sample for per-sample metrics. */
  id: string;
  label: string;
  /** Said by screen readers and shown on hover. */
  title: string;
  /** What "Sorted by …" calls it, when not its title. */
  name?: string;
  sort: TrialSortKey;
  sample: Sample;
  /** The value a row shows, for `format`. */
  value: (t: OptimizerTrial) => number | null;
  format: (v: number | null) => string;
  /** The group header over it: in-sample and out-of-sample side by side. */
  group: 'trial' | 'score' | Sample;
}

const metric =
  (key: MetricKey, sample: Sample) =>
  (t: OptimizerTrial): number | null => {
    const m: TrialMetrics | null = t[sample];
    return m ? m[key] : null;
  };

export function formatNumber(v: number | null, digits = 3): string {
  if (v === null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 10 ** -digits) ? v.toExponential(2) : v.toFixed(digits);
}

/** A fraction as percent: 0.1234 → "12.34 %". */
export function formatPercent(v: number | null, digits = 2): string {
  return v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)} %`;
}

const whole = (v: number | null): string => (v === null ? '—' : v.toLocaleString('en'));
const ms = (v: number | null): string =>
  v === null ? '—' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;

const perSample = (sample: Sample): TrialColumn[] => {
  const where = sample === 'inSample' ? 'in sample' : 'out of sample';
  return [
    {
      id: `totalReturn:${sample}`,
      label: 'return',
      title: `Total return ${where}`,
      sort: 'totalReturn',
      sample,
      value: metric('totalReturn', sample),
      format: (v) => formatPercent(v),
      group: sample,
    },
    {
      id: `sharpe:${sample}`,
      label: 'Sharpe',
      title: `Annualised Sharpe ratio ${where}`,
      sort: 'sharpe',
      sample,
      value: metric('sharpe', sample),
      format: (v) => formatNumber(v, 2),
      group: sample,
    },
    {
      id: `maxDrawdown:${sample}`,
      label: 'max DD',
      title: `Largest drawdown ${where}`,
      sort: 'maxDrawdown',
      sample,
      value: metric('maxDrawdown', sample),
      format: (v) => formatPercent(v, 1),
      group: sample,
    },
    {
      id: `trades:${sample}`,
      label: 'trades',
      title: `Trades ${where}`,
      sort: 'trades',
      sample,
      value: metric('trades', sample),
      format: whole,
      group: sample,
    },
    {
      id: `winRate:${sample}`,
      label: 'win',
      title: `Winning trades ${where}`,
      sort: 'winRate',
      sample,
      value: metric('winRate', sample),
      format: (v) => formatPercent(v, 0),
      group: sample,
    },
  ];
};

/** The sortable columns, in order: id, the two scores, then each sample's metrics side by side. */
export const trialColumns: readonly TrialColumn[] = [
  {
    id: 'id',
    label: '#',
    title: 'Trial id',
    sort: 'id',
    sample: 'inSample',
    value: (t) => t.id,
    format: (v) => (v === null ? '—' : String(v)),
    group: 'trial',
  },
  {
    id: 'score',
    label: 'in sample',
    title: 'The objective in sample: what chose the best trial',
    name: 'the in-sample score',
    sort: 'score',
    sample: 'inSample',
    value: (t) => t.score,
    format: (v) => formatNumber(v),
    group: 'score',
  },
  {
    id: 'outOfSampleScore',
    label: 'out of sample',
    title: 'The same objective out of sample: never used to choose',
    name: 'the out-of-sample score',
    sort: 'outOfSampleScore',
    sample: 'inSample',
    value: (t) => t.outOfSampleScore,
    format: (v) => formatNumber(v),
    group: 'score',
  },
  ...perSample('inSample'),
  ...perSample('outOfSample'),
  {
    id: 'durationMs',
    label: 'took',
    title: 'How long the trial took',
    sort: 'durationMs',
    sample: 'inSample',
    value: (t) => t.durationMs,
    format: ms,
    group: 'trial',
  },
];

/** Lower is better for these: their first click sorts ascending. */
const ascendingFirst: ReadonlySet<TrialSortKey> = new Set(['id', 'maxDrawdown', 'durationMs']);

export const defaultTrialSort: TrialSort = { sort: 'score', sample: 'inSample', order: 'desc' };

export function isSortedBy(state: TrialSort, column: TrialColumn): boolean {
  return state.sort === column.sort && (state.sample === column.sample || !perSampleKey(column.sort));
}

function perSampleKey(key: TrialSortKey): boolean {
  return !['id', 'score', 'outOfSampleScore', 'durationMs'].includes(key);
}

/** A click on a column header: the same column flips its order, another starts at its better end. */
export function nextSort(state: TrialSort, column: TrialColumn): TrialSort {
  if (isSortedBy(state, column)) return { ...state, order: state.order === 'asc' ? 'desc' : 'asc' };
  return {
    sort: column.sort,
    sample: column.sample,
    order: ascendingFirst.has(column.sort) ? 'asc' : 'desc',
  };
}

export function ariaSort(state: TrialSort, column: TrialColumn): 'ascending' | 'descending' | 'none' {
  if (!isSortedBy(state, column)) return 'none';
  return state.order === 'asc' ? 'ascending' : 'descending';
}

/** What the table is sorted by, in words (for the live region after a sort). */
export function sortWords(state: TrialSort): string {
  const column = trialColumns.find((c) => isSortedBy(state, c));
  const what = column ? (column.name ?? column.title.toLowerCase()) : state.sort;
  return `Sorted by ${what}, ${state.order === 'asc' ? 'lowest' : 'highest'} first${
    state.sort === 'id' || state.sort === 'durationMs' ? '' : ', trials without a value last'
  }`;
}

// ---- runs kept current by events ----

export const activeStatuses: ReadonlySet<OptimizerRunStatus> = new Set(['queued', 'running']);

export function isActive(status: OptimizerRunStatus): boolean {
  return activeStatuses.has(status);
}

/**
 * A run with a progress event applied. A finished run stays finished (a late event of the same run
 * says nothing new), and a progress event never undoes trials already counted.
 */
export function applyProgress(run: OptimizerRun, event: OptimizerProgressEvent): OptimizerRun {
  if (event.runId !== run.id) return run;
  if (!isActive(run.status) && isActive(event.status)) return run;
  return {
    ...run,
    status: event.status,
    progress: {
      done: Math.max(run.progress.done, event.done),
      total: event.total,
      failed: Math.max(run.progress.failed, event.failed),
      etaMs: isActive(event.status) ? event.etaMs : null,
      best: event.best,
    },
  };
}

/** Does this event say something a `optimizer.run` read would add to (status moved, unknown run)? */
export function needsRead(run: OptimizerRun | undefined, event: OptimizerProgressEvent): boolean {
  return run === undefined || run.status !== event.status;
}

/** Runs newest first, a new id in its place. */
export function insertRunId(ids: readonly number[], id: number): number[] {
  if (ids.includes(id)) return [...ids];
  const next = [...ids, id];
  return next.sort((a, b) => b - a);
}

export const statusTone: Record<OptimizerRunStatus, 'ok' | 'transition' | 'warn' | 'bad' | 'idle'> = {
  queued: 'idle',
  running: 'transition',
  done: 'ok',
  cancelled: 'warn',
  failed: 'bad',
};

/** "412 of 1,000" with the failed ones, for the progress cell. */
export function progressWords(run: Pick<OptimizerRun, 'progress'>): string {
  const p = run.progress;
  const base = `${p.done.toLocaleString('en')} of ${p.total.toLocaleString('en')}`;
  return p.failed > 0 ? `${base}, ${p.failed.toLocaleString('en')} failed` : base;
}

/** The share done, in [0, 1]. */
export function progressShare(run: Pick<OptimizerRun, 'progress'>): number {
  const { done, total } = run.progress;
  return total <= 0 ? 0 : Math.min(1, done / total);
}

/** The parameters a trial differs in from the run's other trials first: searched ones, then the rest. */
export function orderedParams(params: Record<string, number>, searched: readonly string[]): string[] {
  const rest = Object.keys(params).filter((n) => !searched.includes(n));
  return [...searched.filter((n) => n in params), ...rest];
}

/** "fast 10, slow 40" */
export function paramsWords(params: Record<string, number>, order?: readonly string[]): string {
  return (order ?? Object.keys(params))
    .filter((n) => params[n] !== undefined)
    .map((n) => `${n} ${formatParamValue(params[n]!)}`)
    .join(', ');
}

function formatParamValue(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}
