/**
 * The latest best bid/ask per venue and symbol, while the Market page is open: loaded with
 * `market.top`, then kept current by the `market.top` event (batched, at most 4 Hz per symbol).
 * Subscribing to that event is what makes the core carry top of book at all, so the page subscribes
 * on mount and lets go on unmount.
 *
 * The mid price history for the live chart lives outside React state, in bounded ring buffers (one
 * point a second per symbol, 15 minutes), read when the chart redraws.
 */
import { useEffect } from 'react';
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { MarketTop } from '../../../shared/market-api';
import { marketTopKey } from '../lib/market-health';
import { useConnectionStore } from './connection';

interface MarketTopStore {
  byKey: Readonly<Record<string, MarketTop>>;
  /** When the last update arrived, epoch ms (null: none yet). */
  at: number | null;
  apply(tops: readonly MarketTop[]): void;
  clear(): void;
}

export const useMarketTopStore = create<MarketTopStore>()((set) => ({
  byKey: {},
  at: null,
  apply: (tops) => {
    if (tops.length === 0) return;
    for (const t of tops) pushMid(t);
    set((s) => {
      const byKey = { ...s.byKey };
      for (const t of tops) {
        const key = marketTopKey(t.venue, t.symbol);
        const known = byKey[key];
        if (!known || known.exchangeTs <= t.exchangeTs) byKey[key] = t;
      }
      return { byKey, at: Date.now() };
    });
  },
  clear: () => set({ byKey: {}, at: null }),
}));

export function useMarketTop(venue: string | null, symbol: string | null): MarketTop | undefined {
  return useMarketTopStore((s) => (venue && symbol ? s.byKey[marketTopKey(venue, symbol)] : undefined));
}

/** Watches the top of book while the calling component is mounted (and reloads it after a reconnect). */
export function useMarketTopFeed(api: VigilApi): void {
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  useEffect(() => api.on('market.top', (event) => useMarketTopStore.getState().apply(event.tops)), [api]);
  useEffect(() => {
    if (!connected) return;
    let live = true;
    void api.market.top({}).then((r) => {
      if (live && r.ok) useMarketTopStore.getState().apply(r.result.tops);
    });
    return () => {
      live = false;
    };
  }, [api, connected]);
}

// ---- mid price history ----

export interface MidPoint {
  t: number;
  v: number;
}

const HISTORY_POINTS = 900;
const HISTORY_STEP_MS = 1000;
const rings = new Map<string, { points: MidPoint[]; next: number }>();

function pushMid(top: MarketTop): void {
  const key = marketTopKey(top.venue, top.symbol);
  let ring = rings.get(key);
  if (!ring) {
    ring = { points: [], next: 0 };
    rings.set(key, ring);
  }
  const last =
    ring.points.length === 0 ? null : ring.points[(ring.next - 1 + ring.points.length) % ring.points.length]!;
  if (last && top.exchangeTs - last.t < HISTORY_STEP_MS) return;
  const point = { t: top.exchangeTs, v: (top.bid + top.ask) / 2 };
  if (ring.points.length < HISTORY_POINTS) ring.points.push(point);
  else ring.points[ring.next] = point;
  ring.next = (ring.next + 1) % HISTORY_POINTS;
}

/** The mid prices seen for a symbol in [from, to] since the page opened, oldest first (15 minutes at most). */
export function midHistory(venue: string, symbol: string, from = 0, to = Infinity): MidPoint[] {
  const ring = rings.get(marketTopKey(venue, symbol));
  if (!ring) return [];
  const ordered =
    ring.points.length < HISTORY_POINTS
      ? ring.points
      : [...ring.points.slice(ring.next), ...ring.points.slice(0, ring.next)];
  return ordered.filter((p) => p.t >= from && p.t <= to);
}
