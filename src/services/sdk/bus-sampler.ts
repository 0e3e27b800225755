/**
 * What the supervisor sees of a child's market data: never the stream itself, only a sample twice a
 * second of how many messages each subject carried and the last one on each (DESIGN.md: main gets
 * per-second aggregates and throttled samples, so a busy bus can never freeze the window).
 */
import { SAMPLE_SUBJECT_PREFIX, type BusSample } from '../../shared/bus';
import type { Bus, BusMessage, BusSubscription, SubscribeOptions } from '../bus/types';

export const SAMPLE_INTERVAL_MS = 500;
/** A child publishing on thousands of subjects still sends a bounded sample. */
const MAX_SUBJECTS_PER_SAMPLE = 200;

/** Wraps a bus so its publications are counted and sampled on `vigil.sample.<service>`. */
export function withSampling(
  bus: Bus,
  service: string,
  intervalMs = SAMPLE_INTERVAL_MS,
): Bus & { stopSampling(): void } {
  let counts = new Map<string, number>();
  let last = new Map<string, unknown>();
  let from = Date.now();
  const subject = `${SAMPLE_SUBJECT_PREFIX}.${service}`;
  const timer = setInterval(() => {
    if (counts.size === 0) return;
    const to = Date.now();
    const keys = [...counts.keys()].slice(0, MAX_SUBJECTS_PER_SAMPLE);
    const sample: BusSample = {
      service,
      from,
      to,
      counts: Object.fromEntries(keys.map((k) => [k, counts.get(k)!])),
      last: Object.fromEntries(keys.map((k) => [k, last.get(k)])),
    };
    counts = new Map();
    last = new Map();
    from = to;
    bus.publish(subject, sample);
  }, intervalMs);
  timer.unref();
  return {
    publish(s: string, data: unknown) {
      bus.publish(s, data);
      counts.set(s, (counts.get(s) ?? 0) + 1);
      last.set(s, data);
    },
    subscribe: (p: string, h: (m: BusMessage) => void, o?: SubscribeOptions): BusSubscription =>
      bus.subscribe(p, h, o),
    flush: () => bus.flush(),
    metrics: () => bus.metrics(),
    close: async () => {
      clearInterval(timer);
      await bus.close();
    },
    stopSampling: () => clearInterval(timer),
  };
}
