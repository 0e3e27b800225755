/**
 * The heat map over any two parameters a run searched, so a trader can tell a robust plateau (a block
 * of similar colour) from a single lucky point (one bright cell among dark ones). Each cell is the
 * best or the median score of the trials with those two values (the other parameters vary inside
 * it), in or out of sample. A CSS grid of focusable cells: arrow keys move, Enter opens the cell's
 * best trial; every cell says its parameter values and score; a colour legend explains the scale.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { OptimizerRun, OptimizerTrial } from '../../../../shared/optimizer-api';
import { adviceFor } from '../../../../shared/optimizer-ui/advice';
import {
  bestCell,
  cellColor,
  cellLabel,
  formatScore,
  formatTick,
  heatMapOf,
  legendStops,
  moveCell,
  textOn,
  varyingParams,
  type HeatAggregate,
  type HeatCell,
  type HeatMap,
  type HeatValue,
} from '../../../../shared/optimizer-ui/heatmap';
import type { VigilApi } from '../../../../shared/client';
import { useApi } from '../../connection-context';
import { ErrorNote } from '../ErrorNote';
import { AdviceNote } from './AdviceNote';
import { useTrialsKey } from './hooks';

const PAGE = 1000;
/** Every trial is read again: not more often than this while the run goes on. */
const REFRESH_MS = 5000;
/** Values are written in the cells only while they fit. */
const MAX_COLUMNS_WITH_TEXT = 10;

interface AllTrials {
  items: OptimizerTrial[];
  error: ApiErrorShape | null;
  loaded: boolean;
}

/** Every trial of the run, in pages, read again when the run has new ones. */
function useAllTrials(api: VigilApi, run: OptimizerRun): AllTrials {
  const key = useTrialsKey(run, REFRESH_MS);
  const [state, setState] = useState<AllTrials>({ items: [], error: null, loaded: false });
  useEffect(() => {
    let live = true;
    void (async () => {
      const items: OptimizerTrial[] = [];
      for (let offset = 0; live; offset += PAGE) {
        const r = await api.optimizer.trials({
          runId: run.id,
          sort: 'id',
          order: 'asc',
          limit: PAGE,
          offset,
        });
        if (!live) return;
        if (!r.ok) {
          setState((s) => ({ ...s, error: r.error, loaded: true }));
          return;
        }
        items.push(...r.result.items);
        if (r.result.items.length < PAGE || items.length >= r.result.total) break;
      }
      if (live) setState({ items, error: null, loaded: true });
    })();
    return () => {
      live = false;
    };
  }, [api, run.id, key]);
  return state;
}

export function HeatMapPanel({ run, onSelect }: { run: OptimizerRun; onSelect: (trialId: number) => void }) {
  const api = useApi();
  const { items, error, loaded } = useAllTrials(api, run);
  const params = useMemo(() => varyingParams(items), [items]);
  const [xChoice, setX] = useState<string | null>(null);
  const [yChoice, setY] = useState<string | null>(null);
  const [value, setValue] = useState<HeatValue>('score');
  const [aggregate, setAggregate] = useState<HeatAggregate>('best');
  const [constrained, setConstrained] = useState(true);
  const xParam = xChoice !== null && params.includes(xChoice) ? xChoice : params[0];
  const yParam =
    yChoice !== null && params.includes(yChoice) && yChoice !== xParam
      ? yChoice
      : params.find((p) => p !== xParam);
  const map = useMemo(
    () =>
      xParam !== undefined && yParam !== undefined
        ? heatMapOf(items, xParam, yParam, { value, aggregate, constrained })
        : null,
    [items, xParam, yParam, value, aggregate, constrained],
  );

  return (
    <section
      className="panel opt-heat-panel"
      data-testid="optimizer-heatmap"
      aria-labelledby="opt-heat-title"
    >
      <h2 className="section-title" id="opt-heat-title">
        Heat map
      </h2>
      {error && (
        <div className="feed-problem">
          <ErrorNote error={error} testId="optimizer-heatmap-error" />
          <AdviceNote advice={adviceFor('trials', error)} testId="optimizer-heatmap-advice" />
        </div>
      )}
      {!loaded ? (
        <p className="muted">Reading the trials…</p>
      ) : items.length === 0 ? (
        <p className="empty" data-testid="optimizer-heatmap-empty">
          No trials yet: the map fills in as trials finish.
        </p>
      ) : params.length < 2 ? (
        <p className="empty" data-testid="optimizer-heatmap-few">
          A heat map needs two parameters that vary across the trials; this run varies{' '}
          {params.length === 0 ? 'none' : `only ${params[0]}`}. Search two or more parameters to see one.
        </p>
      ) : (
        <>
          <div className="filters opt-heat-controls">
            <label className="filter">
              <span className="filter-label">Across (x)</span>
              <select
                className="input"
                data-testid="optimizer-heatmap-x"
                value={xParam}
                onChange={(e) => {
                  setX(e.target.value);
                  if (e.target.value === yParam) setY(xParam ?? null);
                }}
              >
                {params.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
            <label className="filter">
              <span className="filter-label">Up (y)</span>
              <select
                className="input"
                data-testid="optimizer-heatmap-y"
                value={yParam}
                onChange={(e) => {
                  setY(e.target.value);
                  if (e.target.value === xParam) setX(yParam ?? null);
                }}
              >
                {params.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            </label>
            <label className="filter">
              <span className="filter-label">Colour</span>
              <select
                className="input"
                data-testid="optimizer-heatmap-value"
                value={value}
                onChange={(e) => setValue(e.target.value as HeatValue)}
              >
                <option value="score">In-sample score</option>
                <option value="outOfSampleScore">Out-of-sample score</option>
              </select>
            </label>
            <label className="filter">
              <span className="filter-label">Per cell</span>
              <select
                className="input"
                data-testid="optimizer-heatmap-aggregate"
                value={aggregate}
                onChange={(e) => setAggregate(e.target.value as HeatAggregate)}
              >
                <option value="best">Best trial</option>
                <option value="median">Median of its trials</option>
              </select>
            </label>
            <label className="opt-check">
              <input
                type="checkbox"
                data-testid="optimizer-heatmap-constrained"
                checked={constrained}
                onChange={(e) => setConstrained(e.target.checked)}
              />
              only trials meeting the constraints
            </label>
          </div>
          {map && <HeatGrid map={map} bestTrialId={run.progress.best?.trialId ?? null} onSelect={onSelect} />}
          {map && (
            <p className="muted opt-heat-axes">
              {map.y.param} up, {map.x.param} across
              {map.x.binned || map.y.binned ? ': many values, so each cell covers a range' : ''}
            </p>
          )}
          {map && <Legend map={map} />}
        </>
      )}
    </section>
  );
}

function HeatGrid({
  map,
  bestTrialId,
  onSelect,
}: {
  map: HeatMap;
  bestTrialId: number | null;
  onSelect: (trialId: number) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [focus, setFocus] = useState(() => bestCell(map));
  const columns = map.x.bins.length;
  const rows = map.y.bins.length;
  const at = { x: Math.min(focus.x, columns - 1), y: Math.min(focus.y, rows - 1) };
  const template = { gridTemplateColumns: `var(--heat-label) repeat(${columns}, minmax(14px, 1fr))` };
  const withText = columns <= MAX_COLUMNS_WITH_TEXT;
  const valueWords = map.options.value === 'score' ? 'in-sample score' : 'out-of-sample score';

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key === 'Enter' || e.key === ' ') {
      const cell = map.cells[at.y]?.[at.x];
      if (cell?.bestTrialId !== null && cell?.bestTrialId !== undefined) {
        e.preventDefault();
        onSelect(cell.bestTrialId);
      }
      return;
    }
    const next = moveCell(at, e.key, { columns, rows });
    if (!next) return;
    e.preventDefault();
    setFocus(next);
    ref.current?.querySelector<HTMLElement>(`[data-x="${next.x}"][data-y="${next.y}"]`)?.focus();
  };

  return (
    <div
      ref={ref}
      className="opt-heat"
      role="grid"
      aria-label={`${map.options.aggregate === 'best' ? 'Best' : 'Median'} ${valueWords} by ${map.x.param} (across) and ${map.y.param} (up). Arrow keys move, Enter opens the cell's best trial.`}
      aria-rowcount={rows + 1}
      aria-colcount={columns + 1}
      data-testid="optimizer-heatmap-grid"
      data-x={map.x.param}
      data-y={map.y.param}
      data-columns={columns}
      data-rows={rows}
      data-dense={rows > 12}
      onKeyDown={onKeyDown}
    >
      {[...map.cells].reverse().map((row, ri) => {
        const y = rows - 1 - ri;
        return (
          <div role="row" className="opt-heat-row" style={template} key={y} aria-rowindex={ri + 1}>
            <div
              role="rowheader"
              className="opt-heat-ylabel"
              title={`${map.y.param} ${map.y.bins[y]!.label}`}
            >
              {map.y.bins[y]!.label}
            </div>
            {row.map((cell) => (
              <Cell
                key={cell.x}
                map={map}
                cell={cell}
                focused={cell.x === at.x && cell.y === at.y}
                best={cell.bestTrialId !== null && cell.bestTrialId === bestTrialId}
                withText={withText}
                onFocus={() => setFocus({ x: cell.x, y: cell.y })}
                onSelect={onSelect}
              />
            ))}
          </div>
        );
      })}
      <div role="row" className="opt-heat-row opt-heat-xaxis" style={template} aria-rowindex={rows + 1}>
        <div role="columnheader" className="opt-heat-corner">
          {map.y.param} ↑
        </div>
        {map.x.bins.map((b, i) => (
          <div role="columnheader" key={i} className="opt-heat-xlabel" title={`${map.x.param} ${b.label}`}>
            {b.label}
          </div>
        ))}
      </div>
    </div>
  );
}

function Cell({
  map,
  cell,
  focused,
  best,
  withText,
  onFocus,
  onSelect,
}: {
  map: HeatMap;
  cell: HeatCell;
  focused: boolean;
  best: boolean;
  withText: boolean;
  onFocus: () => void;
  onSelect: (trialId: number) => void;
}) {
  const color = cellColor(map, cell.value);
  const kind =
    cell.trials === 0
      ? 'empty'
      : cell.value !== null
        ? 'scored'
        : map.options.constrained && cell.meeting === 0
          ? 'constrained'
          : 'unscored';
  const label = cellLabel(map, cell) + (best ? '; holds the run’s best trial' : '');
  return (
    <div
      role="gridcell"
      className="opt-heat-cell"
      tabIndex={focused ? 0 : -1}
      aria-label={label}
      title={label}
      data-testid="optimizer-heatmap-cell"
      data-x={cell.x}
      data-y={cell.y}
      data-kind={kind}
      data-value={cell.value ?? ''}
      data-best={best}
      data-text={cell.value !== null ? textOn(map, cell.value) : undefined}
      style={color ? { background: color } : undefined}
      onFocus={onFocus}
      onClick={() => cell.bestTrialId !== null && onSelect(cell.bestTrialId)}
    >
      {withText && cell.value !== null && <span aria-hidden="true">{formatScore(cell.value)}</span>}
    </div>
  );
}

function Legend({ map }: { map: HeatMap }) {
  if (map.min === null || map.max === null) {
    return (
      <p className="muted opt-heat-legend" data-testid="optimizer-heatmap-legend">
        No cell has a score yet{map.options.constrained ? ' among the trials meeting the constraints' : ''}.
      </p>
    );
  }
  const stops = legendStops(map.min, map.max, 5);
  const gradient = `linear-gradient(to right, ${stops.map((s) => `${s.color} ${s.offset * 100}%`).join(', ')})`;
  return (
    <div className="opt-heat-legend" data-testid="optimizer-heatmap-legend">
      <div
        className="opt-heat-scale"
        role="img"
        aria-label={`Colour scale: dark violet is ${formatScore(map.min)}, yellow is ${formatScore(map.max)}`}
      >
        <div className="opt-heat-bar" style={{ background: gradient }} />
        <div className="opt-heat-ticks">
          {stops.map((s) => (
            <span key={s.offset} data-testid="optimizer-heatmap-tick">
              {formatTick(s.value, map.max! - map.min!)}
            </span>
          ))}
        </div>
      </div>
      <ul className="opt-heat-keys">
        <li>
          <i className="opt-key" data-kind="unscored" aria-hidden="true" /> no score (no trades, or failed)
        </li>
        {map.options.constrained && (
          <li>
            <i className="opt-key" data-kind="constrained" aria-hidden="true" /> no trial meets the
            constraints
          </li>
        )}
        <li>
          <i className="opt-key" data-kind="empty" aria-hidden="true" /> no trial
        </li>
        <li>
          <i className="opt-key" data-kind="best" aria-hidden="true" /> the run’s best trial
        </li>
      </ul>
    </div>
  );
}
