/**
 * Per-stream figures of a collector (a stream is one symbol's data type, e.g. `BTCUSDT.trade`):
 * messages, freshness, exchange→local latency, gaps, resyncs and parse errors. The collector reports
 * them to the supervisor at 1 Hz as metrics, and their freshness, message counts and a latency
 * histogram per data type with each heartbeat (for /metrics).
 */
import {
  LATENCY_BUCKETS_MS,
  type CollectorHeartbeat,
  type LatencyHistogram,
} from '../../shared/collector-streams';

interface Counters {
  messages: number;
  /** Messages since the last report, for the rate. */
  window: number;
  latencySum: number;
  latencyCount: number;
  lastAt: number;
  gaps: number;
  resyncs: number;
}

export class StreamStats {
  private readonly streams = new Map<string, Counters>();
  /** Per data type, not per stream: a histogram per symbol would multiply the series for little. */
  private readonly latency = new Map<string, LatencyHistogram>();
  private lastReportAt: number;
  reconnects = 0;
  parseErrors = 0;

  constructor(
    streams: string[],
    private readonly now: () => number = Date.now,
  ) {
    for (const s of streams) this.streams.set(s, blank());
    this.lastReportAt = now();
  }

  /** One message on `stream`; `exchangeTs` gives the exchange→local latency. */
  message(stream: string, localTs: number, exchangeTs: number): void {
    const c = this.streams.get(stream);
    if (!c) return;
    c.messages += 1;
    c.window += 1;
    c.lastAt = localTs;
    const latency = localTs - exchangeTs;
    // A clock far off (or a field that is not a time) would wreck the average: keep it out.
    if (latency > -60_000 && latency < 60_000) {
      c.latencySum += latency;
      c.latencyCount += 1;
      this.observeLatency(stream.slice(stream.lastIndexOf('.') + 1), latency);
    }
  }

  private observeLatency(type: string, latencyMs: number): void {
    let h = this.latency.get(type);
    if (!h) {
      h = { counts: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0), sumMs: 0, count: 0 };
      this.latency.set(type, h);
    }
    // A clock slightly ahead of the exchange's reads as negative latency: it counts as none.
    const ms = Math.max(0, latencyMs);
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i += 1;
    h.counts[i]! += 1;
    h.sumMs += ms;
    h.count += 1;
  }

  gap(stream: string): void {
    const c = this.streams.get(stream);
    if (c) c.gaps += 1;
  }

  resync(stream: string): void {
    const c = this.streams.get(stream);
    if (c) c.resyncs += 1;
  }

  /** Milliseconds since each stream's last message (null: none yet). */
  freshness(): Record<string, number | null> {
    const now = this.now();
    const out: Record<string, number | null> = {};
    for (const [name, c] of this.streams) out[name] = c.lastAt === 0 ? null : now - c.lastAt;
    return out;
  }

  /** What each heartbeat carries: freshness, and counters since start (see CollectorHeartbeat). */
  heartbeat(): CollectorHeartbeat {
    const messages: Record<string, number> = {};
    for (const [name, c] of this.streams) messages[name] = c.messages;
    const latency: Record<string, LatencyHistogram> = {};
    for (const [type, h] of this.latency) latency[type] = { ...h, counts: [...h.counts] };
    return { freshnessMs: this.freshness(), messages, latency };
  }

  /** The streams with no message for longer than `staleAfterMs` (or none at all since `since`). */
  stale(staleAfterMs: number, since: number): string[] {
    const now = this.now();
    const out: string[] = [];
    for (const [name, c] of this.streams) {
      const last = c.lastAt === 0 ? since : c.lastAt;
      if (now - last > staleAfterMs) out.push(name);
    }
    return out;
  }

  /** The 1 Hz metrics: per stream `<stream>.msgPerSec|freshnessMs|latencyMs|gaps|resyncs`, plus totals. */
  report(): Record<string, number> {
    const now = this.now();
    const seconds = Math.max(0.001, (now - this.lastReportAt) / 1000);
    this.lastReportAt = now;
    const out: Record<string, number> = {
      reconnects: this.reconnects,
      parseErrors: this.parseErrors,
    };
    let total = 0;
    for (const [name, c] of this.streams) {
      out[`${name}.msgPerSec`] = c.window / seconds;
      if (c.lastAt > 0) out[`${name}.freshnessMs`] = now - c.lastAt;
      if (c.latencyCount > 0) out[`${name}.latencyMs`] = c.latencySum / c.latencyCount;
      out[`${name}.gaps`] = c.gaps;
      out[`${name}.resyncs`] = c.resyncs;
      total += c.window;
      c.window = 0;
      c.latencySum = 0;
      c.latencyCount = 0;
    }
    out.msgPerSec = total / seconds;
    return out;
  }
}

function blank(): Counters {
  return { messages: 0, window: 0, latencySum: 0, latencyCount: 0, lastAt: 0, gaps: 0, resyncs: 0 };
}
