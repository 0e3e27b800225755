/** The instrument the Market page's panel shows, kept while the person visits other pages. */
import { create } from 'zustand';
import type { Venue } from '../../../shared/market';

export type ChartRange = '15m' | '1h' | '24h' | '7d';

export const chartRanges: { id: ChartRange; label: string; ms: number }[] = [
  { id: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
];

interface MarketSelectionStore {
  venue: Venue | null;
  symbol: string | null;
  range: ChartRange;
  select(venue: Venue, symbol: string): void;
  setRange(range: ChartRange): void;
}

export const useMarketSelection = create<MarketSelectionStore>()((set) => ({
  venue: null,
  symbol: null,
  range: '15m',
  select: (venue, symbol) => set({ venue, symbol }),
  setRange: (range) => set({ range }),
}));
