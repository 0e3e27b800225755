/**
 * The traders' snapshots and the person's trader actions. A snapshot is read with `trader.state`
 * when a view of the trader opens (again after a reconnect, and when its service starts or stops),
 * then kept current by the `trader.update` event (at most 4 a second per trader), followed only
 * while a view that shows traders is mounted.
 *
 * The live chart data lives outside React in one bounded ring per trader (2 s buckets, 10 minutes);
 * the store holds only the time the charts draw up to, which moves once a bucket, so a chart redraws
 * at most every 2 s whatever the snapshot rate.
 */
import { useEffect } from 'react';
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { ServiceInfo } from '../../../shared/services';
import type { TraderSnapshot, TraderUpdateEvent } from '../../../shared/trader-api';
import { LastValueRing, pointOfEquity, pointOfSnapshot } from '../../../shared/trader-ui/chart-buffer';
import { useConnectionStore } from './connection';
import { useServicesStore } from './services';

export const CHART_BUCKETS = 300;
export const CHART_BUCKET_MS = 2_000;
export const CHART_WINDOW_MS = CHART_BUCKETS * CHART_BUCKET_MS;

/** A service the built-in trader program runs: it answers the trader commands. */
export function isTraderProgram(s: ServiceInfo): boolean {
  return s.kind === 'trader' && s.program.type === 'builtin' && s.program.name === 'trader';
}

export type TraderAction = 'start' | 'opening' | 'resume' | 'stop' | 'flatten' | 'kill' | 'limits';

interface TraderStore {
  snapshots: Readonly<Record<string, TraderSnapshot | undefined>>;
  /** Why the last `trader.state` failed (cleared by the next snapshot). */
  errors: Readonly<Record<string, ApiErrorShape | undefined>>;
  /** What the live charts draw up to, per trader: the first snapshot time of the newest bucket. */
  drawnAt: Readonly<Record<string, number | undefined>>;
  /** Bumped when recorded history was put into a ring: the charts read their rings again. */
  seeds: number;
  busy: Readonly<Record<string, TraderAction | undefined>>;
  actionErrors: Readonly<Record<string, { action: TraderAction; error: ApiErrorShape } | undefined>>;
}

export const useTraderStore = create<TraderStore>()(() => ({
  snapshots: {},
  errors: {},
  drawnAt: {},
  seeds: 0,
  busy: {},
  actionErrors: {},
}));

const rings = new Map<string, LastValueRing>();

export function chartRing(name: string): LastValueRing {
  let ring = rings.get(name);
  if (!ring) {
    ring = new LastValueRing(CHART_BUCKETS, CHART_BUCKET_MS);
    rings.set(name, ring);
  }
  return ring;
}

export function isSnapshot(value: unknown): value is TraderSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.service === 'string' &&
    typeof v.at === 'number' &&
    typeof v.account === 'object' &&
    v.account !== null &&
    Array.isArray(v.blocks) &&
    Array.isArray(v.positions)
  );
}

/** Takes a snapshot in: the store, and (for a running trader) the chart ring. */
export function applySnapshot(name: string, s: TraderSnapshot): void {
  const previous = useTraderStore.getState().snapshots[name];
  // An older snapshot (a read answered after a newer event) never replaces a newer one.
  if (previous && previous.running && s.running && s.at < previous.at) return;
  let drawn = useTraderStore.getState().drawnAt[name];
  if (s.running) {
    const ring = chartRing(name);
    ring.push(s.at, pointOfSnapshot(s));
    if (drawn === undefined || Math.floor(drawn / CHART_BUCKET_MS) !== Math.floor(s.at / CHART_BUCKET_MS)) {
      drawn = s.at;
    }
  }
  useTraderStore.setState((st) => ({
    snapshots: { ...st.snapshots, [name]: s },
    errors: st.errors[name] ? { ...st.errors, [name]: undefined } : st.errors,
    drawnAt: st.drawnAt[name] === drawn ? st.drawnAt : { ...st.drawnAt, [name]: drawn },
  }));
}

export async function loadTraderState(api: VigilApi, name: string): Promise<void> {
  const r = await api.trader.state({ name });
  if (r.ok) applySnapshot(name, r.result);
  else useTraderStore.setState((st) => ({ errors: { ...st.errors, [name]: r.error } }));
}

/** Fills the chart's past from the recorded equity curve (the live figures already there stay). */
export async function seedChart(api: VigilApi, name: string, now: number): Promise<void> {
  const r = await api.trader.equity({
    name,
    from: Math.max(0, Math.floor(now - CHART_WINDOW_MS)),
    maxPoints: CHART_BUCKETS,
  });
  const s = useTraderStore.getState().snapshots[name];
  if (!r.ok || !s) return;
  const ring = chartRing(name);
  for (const p of r.result) ring.fill(p.t, pointOfEquity(p, s.account.initialEquity));
  const newest = r.result.at(-1)?.t;
  useTraderStore.setState((st) => {
    const drawn = st.drawnAt[name];
    return {
      seeds: st.seeds + 1,
      drawnAt:
        newest !== undefined && (drawn === undefined || drawn < newest)
          ? { ...st.drawnAt, [name]: newest }
          : st.drawnAt,
    };
  });
}

let followers = 0;
let offUpdate: (() => void) | null = null;

/** Follows `trader.update` while some view that shows traders is mounted. */
function followUpdates(api: VigilApi): () => void {
  followers += 1;
  if (followers === 1) {
    offUpdate = api.on('trader.update', (payload: TraderUpdateEvent) => {
      if (typeof payload?.name === 'string' && isSnapshot(payload.snapshot)) {
        applySnapshot(payload.name, payload.snapshot);
      }
    });
  }
  return () => {
    followers -= 1;
    if (followers === 0) {
      offUpdate?.();
      offUpdate = null;
    }
  };
}

/**
 * Keeps the snapshots of these traders current while the caller is mounted: read on connect and
 * whenever a trader's service changes state (a stopped trader's snapshot comes from its database),
 * then followed by events.
 */
export function useTraderFeed(api: VigilApi, names: readonly string[]): void {
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  useEffect(() => followUpdates(api), [api]);
  // One string while the traders and their states are the same: re-read only on a real change.
  const key = useServicesStore((s) => names.map((n) => `${n}:${s.byName[n]?.state ?? ''}`).join('|'));
  useEffect(() => {
    if (!connected || key === '') return;
    for (const part of key.split('|')) {
      const name = part.slice(0, part.lastIndexOf(':'));
      void loadTraderState(api, name);
    }
  }, [api, connected, key]);
}

export function useTraderSnapshot(name: string): TraderSnapshot | undefined {
  return useTraderStore((s) => s.snapshots[name]);
}

/** Runs one trader command for a person, with the trader's busy state and its last error. */
export async function runTraderAction<T>(
  name: string,
  action: TraderAction,
  call: () => Promise<{ ok: true; result: T } | { ok: false; error: ApiErrorShape }>,
): Promise<{ ok: true; result: T } | { ok: false; error: ApiErrorShape } | null> {
  if (useTraderStore.getState().busy[name]) return null;
  useTraderStore.setState((s) => ({
    busy: { ...s.busy, [name]: action },
    actionErrors: { ...s.actionErrors, [name]: undefined },
  }));
  const r = await call();
  useTraderStore.setState((s) => ({
    busy: { ...s.busy, [name]: undefined },
    actionErrors: { ...s.actionErrors, [name]: r.ok ? undefined : { action, error: r.error } },
  }));
  return r;
}

export function dismissTraderError(name: string): void {
  useTraderStore.setState((s) => ({ actionErrors: { ...s.actionErrors, [name]: undefined } }));
}
