/**
 * The Optimizer page's strategies and runs: loaded with `optimizer.strategies` and `optimizer.runs`
 * while the page is open (again after a reconnect, since missed events are not replayed), then kept
 * current by the `optimizer.progress` event. An event that moves a run's status, or names a run not
 * seen yet (submitted from another window), is followed by one `optimizer.run` read for the rest
 * (gaps, times, error, note): state arrives by events, never by polling.
 */
import { useEffect, useMemo } from 'react';
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { OptimizerRun, OptimizerRunPage, StrategyInfo } from '../../../shared/optimizer-api';
import { applyProgress, insertRunId, needsRead } from '../../../shared/optimizer-ui/results';
import { useConnectionStore } from './connection';

const RUNS_PAGE = 50;

interface OptimizerStore {
  strategies: StrategyInfo[] | null;
  strategiesError: ApiErrorShape | null;
  runs: Readonly<Record<number, OptimizerRun>>;
  /** Newest first. */
  runIds: readonly number[];
  runsTotal: number;
  /** `before` for the next page of older runs; null: no more. */
  runsNext: number | null;
  runsLoaded: boolean;
  runsError: ApiErrorShape | null;
  setStrategies(list: StrategyInfo[]): void;
  failStrategies(error: ApiErrorShape): void;
  replaceRuns(page: OptimizerRunPage): void;
  appendRuns(page: OptimizerRunPage): void;
  failRuns(error: ApiErrorShape): void;
  upsertRun(run: OptimizerRun): void;
}

export const useOptimizerStore = create<OptimizerStore>()((set) => ({
  strategies: null,
  strategiesError: null,
  runs: {},
  runIds: [],
  runsTotal: 0,
  runsNext: null,
  runsLoaded: false,
  runsError: null,
  setStrategies: (strategies) => set({ strategies, strategiesError: null }),
  failStrategies: (strategiesError) => set({ strategiesError }),
  replaceRuns: (page) =>
    set({
      runs: Object.fromEntries(page.items.map((r) => [r.id, r])),
      runIds: page.items.map((r) => r.id),
      runsTotal: page.total,
      runsNext: page.next,
      runsLoaded: true,
      runsError: null,
    }),
  appendRuns: (page) =>
    set((s) => {
      const runs = { ...s.runs };
      let runIds = s.runIds;
      for (const r of page.items) {
        runs[r.id] = r;
        runIds = insertRunId(runIds, r.id);
      }
      return { runs, runIds, runsTotal: page.total, runsNext: page.next };
    }),
  failRuns: (runsError) => set({ runsError }),
  upsertRun: (run) =>
    set((s) => {
      const known = s.runIds.includes(run.id);
      return {
        runs: { ...s.runs, [run.id]: run },
        runIds: known ? s.runIds : insertRunId(s.runIds, run.id),
        runsTotal: known ? s.runsTotal : s.runsTotal + 1,
      };
    }),
}));

export async function loadStrategies(api: VigilApi): Promise<void> {
  const r = await api.optimizer.strategies();
  const store = useOptimizerStore.getState();
  if (r.ok) store.setStrategies(r.result);
  else store.failStrategies(r.error);
}

export async function loadRuns(api: VigilApi): Promise<void> {
  const r = await api.optimizer.runs({ limit: RUNS_PAGE });
  const store = useOptimizerStore.getState();
  if (r.ok) store.replaceRuns(r.result);
  else store.failRuns(r.error);
}

export async function loadOlderRuns(api: VigilApi): Promise<void> {
  const before = useOptimizerStore.getState().runsNext;
  if (before === null) return;
  const r = await api.optimizer.runs({ limit: RUNS_PAGE, before });
  const store = useOptimizerStore.getState();
  if (r.ok) store.appendRuns(r.result);
  else store.failRuns(r.error);
}

/** Reads one run (a deep link to an older run, or after an event) into the store. */
export async function readRun(api: VigilApi, id: number): Promise<ApiErrorShape | null> {
  const r = await api.optimizer.run({ id });
  if (!r.ok) return r.error;
  useOptimizerStore.getState().upsertRun(r.result);
  return null;
}

/** Loads strategies and runs while the calling component is mounted, and follows progress events. */
export function useOptimizerFeed(api: VigilApi): void {
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  useEffect(
    () =>
      api.on('optimizer.progress', (event) => {
        const store = useOptimizerStore.getState();
        const known = store.runs[event.runId];
        if (known) store.upsertRun(applyProgress(known, event));
        if (needsRead(known, event)) void readRun(api, event.runId);
      }),
    [api],
  );
  useEffect(() => {
    if (!connected) return;
    void loadStrategies(api);
    void loadRuns(api);
  }, [api, connected]);
}

export function useRun(id: number | null): OptimizerRun | undefined {
  return useOptimizerStore((s) => (id === null ? undefined : s.runs[id]));
}

/** The runs newest first, as a stable array (recomputed only when the store changes). */
export function useRunList(): OptimizerRun[] {
  const runs = useOptimizerStore((s) => s.runs);
  const ids = useOptimizerStore((s) => s.runIds);
  return useMemo(() => ids.flatMap((id) => runs[id] ?? []), [runs, ids]);
}

export function useStrategy(id: string | undefined): StrategyInfo | undefined {
  return useOptimizerStore((s) => s.strategies?.find((x) => x.id === id));
}
