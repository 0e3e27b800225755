/**
 * How the person has set up the Dashboard's charts: the range shown and the series hidden from the
 * legend. Kept for the window's life, so leaving the page and coming back shows the same view.
 */
import { create } from 'zustand';
import type { HistoryRange } from './chart-history';

export type ChartRange = 'live' | HistoryRange;

export const chartRanges: readonly { id: ChartRange; label: string; title: string }[] = [
  { id: 'live', label: 'Live 5 min', title: 'The last five minutes, from the live stream' },
  { id: '1h', label: '1 h', title: 'The last hour, from recorded history (1-minute points)' },
  { id: '24h', label: '24 h', title: 'The last day, from recorded history (5-minute points)' },
  { id: '7d', label: '7 d', title: 'The last week, from recorded history (hourly points)' },
];

interface DashboardViewStore {
  range: ChartRange;
  /** Series (service names) hidden from every chart. */
  hidden: ReadonlySet<string>;
}

export const useDashboardViewStore = create<DashboardViewStore>()(() => ({
  range: 'live',
  hidden: new Set<string>(),
}));

export function setChartRange(range: ChartRange): void {
  useDashboardViewStore.setState({ range });
}

export function toggleSeries(key: string): void {
  useDashboardViewStore.setState((s) => {
    const hidden = new Set(s.hidden);
    if (hidden.has(key)) hidden.delete(key);
    else hidden.add(key);
    return { hidden };
  });
}
