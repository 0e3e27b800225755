/**
 * The latest 1 Hz metrics sample per service (the `metrics` event), kept apart from the service list
 * so a second's figures re-render only the views that show them.
 */
import { create } from 'zustand';
import type { MetricsSample } from '../../../shared/services';

interface LiveMetricsStore {
  at: number | null;
  byService: Readonly<Record<string, Record<string, number> | null>>;
  /** The whole latest sample (CPU, memory, heartbeat age per service), for the Dashboard's charts. */
  sample: MetricsSample | null;
  set(sample: MetricsSample): void;
  clear(): void;
}

export const useLiveMetricsStore = create<LiveMetricsStore>()((set) => ({
  at: null,
  byService: {},
  sample: null,
  set: (sample) =>
    set({
      at: sample.at,
      byService: Object.fromEntries(sample.services.map((s) => [s.name, s.metrics])),
      sample,
    }),
  clear: () => set({ at: null, byService: {}, sample: null }),
}));
