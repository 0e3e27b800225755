/**
 * The Dashboard's live charts: the last five minutes of every service's CPU, memory and message rate,
 * fed by the 1 Hz `metrics` event (through the live-metrics store, from the moment the window
 * connects, so the charts are full when the page opens) and, while the Dashboard is shown, by
 * `bus.sample` for the bus's own publishing rate.
 *
 * The samples live outside React in rings of 2-second buckets, allocated whole when a series first
 * appears (150 points a line however full the window is; a bucket without samples, say while the
 * connection is lost, is a break in the line); the store holds only a version number and the latest
 * figures, bumped at most twice a second, so a sample re-renders the views that draw it and nothing
 * else.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { BusSample } from '../../../shared/bus';
import type { MetricsSample } from '../../../shared/services';
import { BUS_TOTAL_KEY } from '../lib/dashboard-colors';
import { BucketRing } from '../lib/dashboard-series';
import { useLiveMetricsStore } from './live-metrics';
import { useServicesStore } from './services';

/**
 * Points a live line has: the mean of each 2 s, 150 whether the window is full or not (so what the
 * charts hold does not grow as it fills). The supervisor measures CPU and memory every 2 s by default
 * (Settings → Sampling): the 1 Hz event mostly repeats itself within a bucket.
 */
const BUCKETS = 150;
const BUCKET_MS = 2_000;
export const LIVE_WINDOW_MS = BUCKETS * BUCKET_MS;
/** The live charts' time axis: milliseconds before the newest point (the rows' `t`). */
export const LIVE_DOMAIN: readonly [number, number] = [-LIVE_WINDOW_MS, 0];
/** Views are told about new samples at most this often. */
const NOTIFY_MIN_MS = 500;

export const liveRings = {
  cpu: new BucketRing(BUCKETS, BUCKET_MS),
  rss: new BucketRing(BUCKETS, BUCKET_MS),
  rate: new BucketRing(BUCKETS, BUCKET_MS),
} as const;
export type LiveMetric = keyof typeof liveRings;

export interface LiveUsage {
  cpuPercent: number | null;
  rssBytes: number | null;
  heartbeatAgeMs: number | null;
  msgPerSec: number | null;
}

interface ChartLiveStore {
  /** Bumped whenever the rings changed (throttled). */
  version: number;
  /** Time of the newest sample. */
  at: number | null;
  /**
   * What the charts and sparklines draw up to: the time of the first sample of the newest bucket, so
   * they redraw once a point (2 s), not at every sample.
   */
  drawnAt: number | null;
  latest: Readonly<Record<string, LiveUsage>>;
  /** The largest memory of any service now: the scale of memory bars without a limit. */
  maxRss: number;
  /** Bus rate of all publishers in the newest sample (null while not followed). */
  busPerSec: number | null;
  /** Services whose memory is over their soft limit now (the same array while the set is the same). */
  overSoftLimit: readonly string[];
}

export const useChartLiveStore = create<ChartLiveStore>()(() => ({
  version: 0,
  at: null,
  drawnAt: null,
  latest: {},
  maxRss: 0,
  busPerSec: null,
  overSoftLimit: [],
}));

let pending: Omit<ChartLiveStore, 'version'> | null = null;
let timer: ReturnType<typeof setTimeout> | null = null;
let lastNotify = 0;

function notify(next: Omit<ChartLiveStore, 'version'>): void {
  pending = next;
  if (timer !== null) return;
  const wait = Math.max(0, lastNotify + NOTIFY_MIN_MS - Date.now());
  timer = setTimeout(() => {
    timer = null;
    lastNotify = Date.now();
    const update = pending;
    pending = null;
    if (update) useChartLiveStore.setState((s) => ({ ...update, version: s.version + 1 }));
  }, wait);
}

// ---- the bus: counts per window, summed into a rate at each metrics tick ----

let busFollowers = 0;
const busCounts = new Map<string, { count: number; ms: number }>();

function isBusSample(value: unknown): value is BusSample {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.service === 'string' &&
    typeof v.from === 'number' &&
    typeof v.to === 'number' &&
    typeof v.counts === 'object' &&
    v.counts !== null
  );
}

/** Follows `bus.sample` until the returned function is called (the Dashboard, while it is shown). */
export function followBus(api: VigilApi): () => void {
  busFollowers += 1;
  const off = api.on('bus.sample', (payload) => {
    if (!isBusSample(payload)) return;
    let count = 0;
    for (const n of Object.values(payload.counts)) if (typeof n === 'number') count += n;
    const acc = busCounts.get(payload.service) ?? { count: 0, ms: 0 };
    acc.count += count;
    acc.ms += Math.max(0, payload.to - payload.from);
    busCounts.set(payload.service, acc);
  });
  return () => {
    off();
    busFollowers -= 1;
    if (busFollowers === 0) busCounts.clear();
  };
}

function takeBusRate(): number | null {
  if (busFollowers === 0) return null;
  let total = 0;
  for (const { count, ms } of busCounts.values()) if (ms > 0) total += count / (ms / 1000);
  busCounts.clear();
  return total;
}

// ---- samples in ----

export function ingest(sample: MetricsSample): void {
  const last = pending?.at ?? useChartLiveStore.getState().at;
  if (last !== null && sample.at <= last) return; // out of order or repeated
  const cpu: Record<string, number | null> = {};
  const rss: Record<string, number | null> = {};
  const rate: Record<string, number | null> = {};
  const latest: Record<string, LiveUsage> = {};
  let maxRss = 0;
  for (const s of sample.services) {
    const msgPerSec = s.metrics?.msgPerSec;
    cpu[s.name] = s.cpuPercent;
    rss[s.name] = s.rssBytes;
    if (typeof msgPerSec === 'number') rate[s.name] = msgPerSec;
    if (s.rssBytes !== null) maxRss = Math.max(maxRss, s.rssBytes);
    latest[s.name] = {
      cpuPercent: s.cpuPercent,
      rssBytes: s.rssBytes,
      heartbeatAgeMs: s.heartbeatAgeMs,
      msgPerSec: typeof msgPerSec === 'number' ? msgPerSec : null,
    };
  }
  const definitions = useServicesStore.getState().byName;
  const over = sample.services
    .filter((s) => {
      const soft = definitions[s.name]?.definition.memory.softBytes ?? null;
      return soft !== null && s.rssBytes !== null && s.rssBytes > soft;
    })
    .map((s) => s.name);
  const previous = pending?.overSoftLimit ?? useChartLiveStore.getState().overSoftLimit;
  const overSoftLimit =
    over.length === previous.length && over.every((n, i) => n === previous[i]) ? previous : over;
  const busPerSec = takeBusRate();
  if (busPerSec !== null) rate[BUS_TOTAL_KEY] = busPerSec;
  liveRings.cpu.push(sample.at, cpu);
  liveRings.rss.push(sample.at, rss);
  liveRings.rate.push(sample.at, rate);
  const drawn = pending?.drawnAt ?? useChartLiveStore.getState().drawnAt;
  const drawnAt =
    drawn !== null && Math.floor(drawn / BUCKET_MS) === Math.floor(sample.at / BUCKET_MS) ? drawn : sample.at;
  notify({ at: sample.at, drawnAt, latest, maxRss, busPerSec, overSoftLimit });
}

export function clearLive(): void {
  for (const ring of Object.values(liveRings)) ring.clear();
  busCounts.clear();
  if (timer !== null) clearTimeout(timer);
  timer = null;
  pending = null;
  useChartLiveStore.setState((s) => ({
    version: s.version + 1,
    at: null,
    drawnAt: null,
    latest: {},
    maxRss: 0,
    busPerSec: null,
    overSoftLimit: [],
  }));
}

// Fed from the app's one `metrics` subscription (stores/sync.ts → live-metrics), from start-up on.
useLiveMetricsStore.subscribe((state, previous) => {
  if (state.sample === previous.sample) return;
  if (state.sample === null) clearLive();
  else ingest(state.sample);
});

/** A service's live values now (re-renders with each throttled update). */
export function useLiveUsage(name: string): LiveUsage | undefined {
  return useChartLiveStore((s) => s.latest[name]);
}
