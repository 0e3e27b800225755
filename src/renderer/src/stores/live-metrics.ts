/**
 * The latest 1 Hz metrics sample per service (the `metrics` event), kept apart from the service list
 * so a second's figures re-render only the views that show them.
 */
import { create } from 'zustand';
import type { MetricsSample } from '../../../shared/services';

/** One service in a metrics sample: CPU, memory, heartbeat age, restarts, its own metrics. */
export type ServiceMetrics = MetricsSample['services'][number];

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

/** One service's entry in the latest sample (the same object until the next one); null before any. */
export function useServiceMetrics(name: string): ServiceMetrics | null {
  return useLiveMetricsStore((s) => s.sample?.services.find((x) => x.name === name) ?? null);
}
