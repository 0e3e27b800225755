/**
 * A collector's streams as the supervisor sees them (a stream is one symbol's data type, e.g.
 * `BTCUSDT.trade`; in a collector carrying several venues, `binance-spot:BTCUSDT.trade`): the figures
 * of its 1 Hz metrics, the counters of its heartbeat, and how fresh each stream is against its stale
 * limit. /health, /metrics and the Market page judge freshness by these rules.
 */
import { parseCollectorConfigs } from './collector-config';
import { marketDataTypes, venues, type MarketDataType, type Venue } from './market';
import { judgeFreshness, staleLimitMs, type Freshness } from './market-api';
import type { ServiceInfo } from './services';

export interface StreamFigures {
  perSec: number;
  freshnessMs: number | undefined;
  latencyMs: number | undefined;
  gaps: number;
  resyncs: number;
}

/** `BTCUSDT.book.msgPerSec`, `BTCUSDT.book.gaps`, ... → figures per `BTCUSDT.book`. */
export function parseStreams(
  metrics: Readonly<Record<string, number>> | null | undefined,
): Map<string, StreamFigures> {
  const out = new Map<string, StreamFigures>();
  if (!metrics) return out;
  for (const key of Object.keys(metrics)) {
    if (!key.endsWith('.msgPerSec')) continue;
    const stream = key.slice(0, -'.msgPerSec'.length);
    if (!stream.includes('.')) continue; // the collector's total
    out.set(stream, {
      perSec: metrics[key]!,
      freshnessMs: metrics[`${stream}.freshnessMs`],
      latencyMs: metrics[`${stream}.latencyMs`],
      gaps: metrics[`${stream}.gaps`] ?? 0,
      resyncs: metrics[`${stream}.resyncs`] ?? 0,
    });
  }
  return out;
}

/** A stream key's parts; the venue is named only in a collector carrying several venues. */
export function splitStream(stream: string): { venue: string | null; symbol: string; type: string } {
  const colon = stream.indexOf(':');
  const venue = colon > 0 ? stream.slice(0, colon) : null;
  const rest = colon > 0 ? stream.slice(colon + 1) : stream;
  const dot = rest.lastIndexOf('.');
  return { venue, symbol: rest.slice(0, dot), type: rest.slice(dot + 1) };
}

/** How a collector carrying several venues names a stream or a venue's figure: `<venue>:<key>`. */
export function venueKey(venue: string, key: string): string {
  return `${venue}:${key}`;
}

// ---- the collector's heartbeat payload ----------------------------------------------------------

/** Upper bounds of the exchange→local latency histogram, ms (the last bucket is everything above). */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** Cumulative since the collector started: counts[i] ≤ LATENCY_BUCKETS_MS[i], the last one above all. */
export interface LatencyHistogram {
  counts: number[];
  sumMs: number;
  count: number;
}

/**
 * What a collector adds to each heartbeat: per stream the age of its last message and its message
 * count since start, and per data type (per `<venue>:<type>` when grouped) its latency histogram.
 * Counters travel here rather than in the metrics so they are not recorded as history series.
 */
export interface CollectorHeartbeat {
  freshnessMs: Record<string, number | null>;
  messages: Record<string, number>;
  latency: Record<string, LatencyHistogram>;
}

/** The counters of a heartbeat payload, leaving out whatever is malformed (any program can send one). */
export function readCollectorHeartbeat(
  payload: Readonly<Record<string, unknown>> | null,
): Pick<CollectorHeartbeat, 'messages' | 'latency'> {
  const messages: Record<string, number> = {};
  const latency: Record<string, LatencyHistogram> = {};
  const m = payload?.messages;
  if (isRecord(m)) {
    for (const [k, v] of Object.entries(m)) if (isCount(v)) messages[k] = v;
  }
  const l = payload?.latency;
  if (isRecord(l)) {
    for (const [k, v] of Object.entries(l)) {
      if (!isRecord(v) || !Array.isArray(v.counts) || v.counts.length !== LATENCY_BUCKETS_MS.length + 1)
        continue;
      if (!v.counts.every(isCount) || !isCount(v.count) || typeof v.sumMs !== 'number') continue;
      if (!Number.isFinite(v.sumMs)) continue;
      latency[k] = { counts: v.counts as number[], sumMs: v.sumMs, count: v.count };
    }
  }
  return { messages, latency };
}

// ---- freshness ----------------------------------------------------------------------------------

interface VenueLimits {
  venue: Venue | null;
  staleAfterMs: number;
  pollIntervalMs: number;
}

/** When the configuration cannot be read (a custom collector): the built-in collectors' default. */
const DEFAULT_LIMITS: VenueLimits = { venue: null, staleAfterMs: 30_000, pollIntervalMs: 60_000 };

export interface StreamHealth {
  stream: string;
  /** The venue, from the stream key or the configuration; null when neither says. */
  venue: string | null;
  symbol: string;
  type: string;
  perSec: number;
  /** Since its last message; null before the first one or when the collector is not running. */
  ageMs: number | null;
  limitMs: number;
  freshness: Freshness;
  gaps: number;
  resyncs: number;
  /** Mean exchange→local latency over the last second. */
  latencyMs: number | null;
}

/** The streams a collector reports, each judged against its stale limit; [] for other services. */
export function collectorStreams(
  service: Pick<ServiceInfo, 'kind' | 'state' | 'definition' | 'metrics'>,
): StreamHealth[] {
  if (service.kind !== 'collector') return [];
  const parsed = parseCollectorConfigs(service.definition.config);
  const configs = parsed.ok ? parsed.configs : [];
  const running = service.state === 'running' || service.state === 'paused' || service.state === 'reloading';
  const out: StreamHealth[] = [];
  for (const [stream, f] of parseStreams(service.metrics)) {
    const parts = splitStream(stream);
    const config = parts.venue
      ? configs.find((c) => c.venue === parts.venue)
      : configs.length === 1
        ? configs[0]
        : undefined;
    const limits: VenueLimits = config ?? {
      ...DEFAULT_LIMITS,
      venue: venues.includes(parts.venue as Venue) ? (parts.venue as Venue) : null,
    };
    const limitMs = isType(parts.type) ? staleLimitMs(limits, parts.type) : limits.staleAfterMs;
    const ageMs = running && f.freshnessMs !== undefined ? f.freshnessMs : null;
    out.push({
      stream,
      venue: parts.venue ?? config?.venue ?? null,
      symbol: parts.symbol,
      type: parts.type,
      perSec: running ? f.perSec : 0,
      ageMs,
      limitMs,
      freshness: running ? judgeFreshness(f.freshnessMs, limitMs) : 'none',
      gaps: f.gaps,
      resyncs: f.resyncs,
      latencyMs: running && f.latencyMs !== undefined ? f.latencyMs : null,
    });
  }
  return out;
}

const isType = (t: string): t is MarketDataType => (marketDataTypes as readonly string[]).includes(t);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
