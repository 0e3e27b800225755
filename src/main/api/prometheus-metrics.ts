/**
 * GET /metrics: the Prometheus text format (prom-client), filled from the live services at each
 * scrape. Per service its state, health, restarts, CPU, memory and heartbeat age; per collector stream
 * its messages, last-message age against its stale limit, gaps and resyncs, and per data type an
 * exchange→local latency histogram; per publisher its bus counters and subscriber queue depths.
 *
 * Labels stay bounded: services, venues, symbols and data types come from the configuration, states
 * from fixed lists, bus subscribers only by the name of a known service. Optimizer progress is
 * summed over runs (a run id label would grow without bound). Traders report while they run: equity,
 * P&L by kind, position per configured symbol, and why opening is blocked (one series per reason of the
 * fixed list, 1 while it blocks).
 */
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Registry,
  type PrometheusContentType,
} from 'prom-client';
import type { AppInfo } from '../../shared/api';
import {
  collectorStreams,
  LATENCY_BUCKETS_MS,
  readCollectorHeartbeat,
  type LatencyHistogram,
} from '../../shared/collector-streams';
import { parseCollectorConfigs } from '../../shared/collector-config';
import { healthStatuses } from '../../shared/health';
import type { ServiceHealth, ServiceInfo } from '../../shared/services';
import { serviceStates } from '../../shared/services';
import { openingBlocks, type TraderSnapshot } from '../../shared/trader-api';
import { buildHealthReport } from './health-report';
import type { OptimizerSummary } from './optimizer-service';

export interface MetricsSource {
  app(): AppInfo;
  services(): ServiceInfo[];
  /** Parameter searches; absent where no optimizer store exists. */
  optimizer?(): OptimizerSummary;
  /** The last snapshot of each running trader. */
  traders?(): TraderSnapshot[];
}

const HEALTHS: readonly ServiceHealth[] = ['healthy', 'degraded', 'unresponsive'];
/** The supervisor's own seat on the bus, a subscriber of every publisher. */
const SUPERVISOR_SUBSCRIBER = 'vigil-supervisor';
const LATENCY_METRIC = 'vigil_stream_latency_seconds';
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

type Labels<T extends string> = Partial<Record<T, string>>;

export class PrometheusMetrics {
  static readonly contentType: string = Registry.PROMETHEUS_CONTENT_TYPE;
  private readonly registry = new Registry();
  private readonly gauges: Gauge<string>[] = [];
  private readonly counters: Counter<string>[] = [];

  private readonly info = this.gauge('vigil_info', 'Vigil version and mode (always 1)', [
    'version',
    'mode',
    'market',
  ]);
  private readonly status = this.gauge(
    'vigil_health_status',
    'Overall status as /health reports it: 1 for the current one',
    ['status'],
  );
  private readonly serviceInfo = this.gauge('vigil_service_info', 'A configured service (always 1)', [
    'service',
    'kind',
  ]);
  private readonly serviceState = this.gauge(
    'vigil_service_state',
    'Supervisor state: 1 for the current one',
    ['service', 'state'],
  );
  private readonly serviceHealth = this.gauge(
    'vigil_service_health',
    'Health of a running service: 1 for the current one',
    ['service', 'health'],
  );
  private readonly restarts = this.counter(
    'vigil_service_restarts_total',
    'Restarts of a service (manual and automatic) since Vigil started',
    ['service'],
  );
  private readonly startTime = this.gauge(
    'vigil_service_start_time_seconds',
    'When the current run of a service started, Unix time',
    ['service'],
  );
  private readonly cpu = this.gauge(
    'vigil_service_cpu_usage_ratio',
    'CPU of a service’s whole process tree, in cores (1 = one core busy)',
    ['service'],
  );
  private readonly memory = this.gauge(
    'vigil_service_resident_memory_bytes',
    'Resident memory of a service’s whole process tree',
    ['service'],
  );
  private readonly memoryLimit = this.gauge(
    'vigil_service_memory_limit_bytes',
    'Memory limits of a service: soft (a warning) and hard (a graceful restart)',
    ['service', 'limit'],
  );
  private readonly heartbeatAge = this.gauge(
    'vigil_service_heartbeat_age_seconds',
    'Time since the last heartbeat of a running service',
    ['service'],
  );
  private readonly optimizerRuns = this.gauge(
    'vigil_optimizer_runs',
    'Parameter searches stored, by status',
    ['status'],
  );
  private readonly optimizerTrials = this.gauge(
    'vigil_optimizer_unfinished_trials',
    'Trials of the queued and running searches: planned in all, done (failed included), failed',
    ['state'],
  );
  private readonly traderEquity = this.gauge(
    'vigil_trader_equity',
    'Equity of a running trader (cash and positions at their marks), in the quote currency of its venue',
    ['service'],
  );
  private readonly traderPnl = this.gauge(
    'vigil_trader_pnl',
    'Profit and loss of a running trader in quote currency: realized (before fees), unrealized, and day (equity change since the UTC day began)',
    ['service', 'kind'],
  );
  private readonly traderPosition = this.gauge(
    'vigil_trader_position',
    'Position of a running trader per symbol, in base units (negative: short)',
    ['service', 'symbol'],
  );
  private readonly traderBlocked = this.gauge(
    'vigil_trader_opening_blocked',
    'Whether a running trader may not open positions, by reason: 1 while the reason holds',
    ['service', 'reason'],
  );
  private readonly streamMessages = this.counter(
    'vigil_stream_messages_total',
    'Messages received on a collector stream since the collector started (rate() of it is the message rate)',
    ['service', 'venue', 'symbol', 'type'],
  );
  private readonly streamAge = this.gauge(
    'vigil_stream_last_message_age_seconds',
    'Time since the last message on a collector stream (its freshness)',
    ['service', 'venue', 'symbol', 'type'],
  );
  private readonly streamLimit = this.gauge(
    'vigil_stream_stale_after_seconds',
    'How long a stream may be silent before it counts as stale',
    ['service', 'venue', 'symbol', 'type'],
  );
  private readonly streamGaps = this.counter(
    'vigil_stream_gaps_total',
    'Sequence gaps detected on a collector stream since the collector started (each in the gap ledger)',
    ['service', 'venue', 'symbol', 'type'],
  );
  private readonly streamResyncs = this.counter(
    'vigil_stream_resyncs_total',
    'Order book resynchronisations of a collector stream since the collector started',
    ['service', 'venue', 'symbol', 'type'],
  );
  private readonly reconnects = this.counter(
    'vigil_collector_reconnects_total',
    'Reconnections of a collector to its venue since the collector started',
    ['service', 'venue'],
  );
  private readonly parseErrors = this.counter(
    'vigil_collector_parse_errors_total',
    'Venue messages a collector could not parse since it started',
    ['service', 'venue'],
  );
  private readonly busPublished = this.counter(
    'vigil_bus_messages_published_total',
    'Messages a service published on the market-data bus',
    ['service'],
  );
  private readonly busDelivered = this.counter(
    'vigil_bus_messages_delivered_total',
    'Messages a publisher delivered to its subscribers',
    ['service'],
  );
  private readonly busDropped = this.counter(
    'vigil_bus_messages_dropped_total',
    'Messages a publisher dropped because a subscriber queue was full (95 % rule)',
    ['service'],
  );
  private readonly busRejected = this.counter(
    'vigil_bus_messages_rejected_total',
    'Malformed, invalid or oversized messages a service’s bus refused',
    ['service'],
  );
  private readonly busSubscribers = this.gauge(
    'vigil_bus_subscribers',
    'Subscribers connected to a publisher',
    ['service'],
  );
  private readonly queueDepth = this.gauge(
    'vigil_bus_queue_depth_messages',
    'Messages waiting in a subscriber’s queue at a publisher (subscribers named by service)',
    ['service', 'subscriber'],
  );
  private readonly queueCapacity = this.gauge(
    'vigil_bus_queue_capacity_messages',
    'Size of a subscriber’s queue at a publisher: warning at 70 %, drops at 95 %',
    ['service', 'subscriber'],
  );
  private readonly subscriberDropped = this.counter(
    'vigil_bus_subscriber_dropped_messages_total',
    'Messages a publisher dropped for one subscriber (subscribers named by service)',
    ['service', 'subscriber'],
  );

  constructor(private readonly source: MetricsSource) {
    // The supervisor process itself: CPU, memory, event-loop lag, as every Node exporter names them.
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters: `promtool check metrics` rightly refuses them.
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  /** The exposition of the services as they are now. */
  async render(now: number = Date.now()): Promise<string> {
    const app = this.source.app();
    const services = this.source.services();
    for (const m of [...this.gauges, ...this.counters]) m.reset();
    const histograms = this.fill(app, services, now);
    const optimizer = this.source.optimizer?.();
    if (optimizer) {
      for (const [status, n] of Object.entries(optimizer.runs)) this.optimizerRuns.set({ status }, n);
      for (const [state, n] of Object.entries(optimizer.unfinishedTrials))
        this.optimizerTrials.set({ state }, n);
    }
    for (const t of this.source.traders?.() ?? []) this.fillTrader(t);
    const latency = AggregatorRegistry.aggregate<PrometheusContentType>([[histograms]]);
    return Registry.merge([this.registry, latency]).metrics();
  }

  private fill(app: AppInfo, services: ServiceInfo[], now: number): object {
    this.info.set({ version: app.version, mode: app.mode, market: app.demo ? 'demo' : 'live' }, 1);
    const report = buildHealthReport(app, services, now);
    for (const status of healthStatuses) this.status.set({ status }, status === report.status ? 1 : 0);

    const known = new Set([...services.map((s) => s.name), SUPERVISOR_SUBSCRIBER]);
    const latencyValues: object[] = [];
    for (const s of services) {
      const service = s.name;
      this.serviceInfo.set({ service, kind: s.kind }, 1);
      for (const state of serviceStates) this.serviceState.set({ service, state }, state === s.state ? 1 : 0);
      if (s.health !== null) {
        for (const health of HEALTHS)
          this.serviceHealth.set({ service, health }, health === s.health ? 1 : 0);
      }
      this.restarts.inc({ service }, s.restarts);
      const { softBytes, hardBytes } = s.definition.memory;
      if (softBytes !== null) this.memoryLimit.set({ service, limit: 'soft' }, softBytes);
      if (hardBytes !== null) this.memoryLimit.set({ service, limit: 'hard' }, hardBytes);
      const up = s.pid !== null;
      if (!up) continue;
      // Figures of a process that is gone are not current: only a live one reports.
      if (s.startedAt !== null) this.startTime.set({ service }, s.startedAt / 1000);
      if (s.cpuPercent !== null) this.cpu.set({ service }, s.cpuPercent / 100);
      if (s.rssBytes !== null) this.memory.set({ service }, s.rssBytes);
      if (s.lastHeartbeatAt !== null)
        this.heartbeatAge.set({ service }, Math.max(0, now - s.lastHeartbeatAt) / 1000);
      this.fillBus(s, known);
      if (s.kind === 'collector') latencyValues.push(...this.fillCollector(s));
    }
    return {
      name: LATENCY_METRIC,
      help: 'Exchange→local latency of collector messages, per venue and data type, since the collector started',
      type: 'histogram',
      aggregator: 'sum',
      values: latencyValues,
    };
  }

  private fillCollector(s: ServiceInfo): object[] {
    const service = s.name;
    const parsed = parseCollectorConfigs(s.definition.config);
    // One venue: its figures are not named after it, the configuration says which it is.
    const soleVenue = parsed.ok && parsed.configs.length === 1 ? parsed.configs[0]!.venue : '';
    const venueOf = (v: string | null): string => v ?? soleVenue;
    const beat = readCollectorHeartbeat(s.heartbeat);
    for (const t of collectorStreams(s)) {
      const labels = { service, venue: venueOf(t.venue), symbol: t.symbol, type: t.type };
      if (t.ageMs !== null) this.streamAge.set(labels, t.ageMs / 1000);
      this.streamLimit.set(labels, t.limitMs / 1000);
      this.streamGaps.inc(labels, t.gaps);
      this.streamResyncs.inc(labels, t.resyncs);
      const messages = beat.messages[t.stream];
      if (messages !== undefined) this.streamMessages.inc(labels, messages);
    }
    for (const [key, value] of Object.entries(s.metrics ?? {})) {
      const colon = key.indexOf(':');
      const name = colon > 0 ? key.slice(colon + 1) : key;
      const venue = colon > 0 ? key.slice(0, colon) : soleVenue;
      if (!isCount(value)) continue;
      if (name === 'reconnects') this.reconnects.inc({ service, venue }, value);
      else if (name === 'parseErrors') this.parseErrors.inc({ service, venue }, value);
    }
    const values: object[] = [];
    for (const [key, h] of Object.entries(beat.latency)) {
      const colon = key.indexOf(':');
      const type = colon > 0 ? key.slice(colon + 1) : key;
      const venue = colon > 0 ? key.slice(0, colon) : soleVenue;
      values.push(...histogramValues({ service, venue, type }, h));
    }
    return values;
  }

  private fillTrader(t: TraderSnapshot): void {
    const service = t.service;
    const a = t.account;
    if (Number.isFinite(a.equity)) this.traderEquity.set({ service }, a.equity);
    const pnl: [string, number][] = [
      ['realized', a.realizedPnl],
      ['unrealized', a.unrealizedPnl],
      ['day', a.dayPnl],
    ];
    for (const [kind, value] of pnl) if (Number.isFinite(value)) this.traderPnl.set({ service, kind }, value);
    // Every symbol it trades, flat ones at 0: a series that vanishes when flat reads as missing data.
    const qty = new Map(t.feeds.map((f) => [f.symbol, 0]));
    for (const p of t.positions) qty.set(p.symbol, p.qty);
    for (const [symbol, value] of qty)
      if (Number.isFinite(value)) this.traderPosition.set({ service, symbol }, value);
    for (const reason of openingBlocks)
      this.traderBlocked.set({ service, reason }, t.blocks.includes(reason) ? 1 : 0);
  }

  private fillBus(s: ServiceInfo, known: ReadonlySet<string>): void {
    const service = s.name;
    const m = s.metrics ?? {};
    const counters: [Counter<string>, string][] = [
      [this.busPublished, 'bus.published'],
      [this.busDelivered, 'bus.delivered'],
      [this.busDropped, 'bus.dropped'],
      [this.busRejected, 'bus.rejected'],
    ];
    for (const [counter, key] of counters) {
      const v = m[key];
      if (isCount(v)) counter.inc({ service }, v);
    }
    if (isCount(m['bus.subscribers'])) this.busSubscribers.set({ service }, m['bus.subscribers']);
    for (const sub of s.bus ?? []) {
      // A subscription's own id (`x/sub-7`) changes with every subscription: not a bounded label.
      if (!known.has(sub.id)) continue;
      const labels = { service, subscriber: sub.id };
      this.queueDepth.set(labels, sub.queueDepth);
      this.queueCapacity.set(labels, sub.capacity);
      this.subscriberDropped.inc(labels, sub.dropped);
    }
  }

  private gauge<T extends string>(name: string, help: string, labelNames: T[]): Gauge<T> {
    const g = new Gauge<T>({ name, help, labelNames, registers: [this.registry] });
    this.gauges.push(g as unknown as Gauge<string>);
    return g;
  }

  private counter<T extends string>(name: string, help: string, labelNames: T[]): Counter<T> {
    const c = new Counter<T>({ name, help, labelNames, registers: [this.registry] });
    this.counters.push(c as unknown as Counter<string>);
    return c;
  }
}

/** A collector's cumulative bucket counts as Prometheus histogram series (cumulative `le` buckets). */
function histogramValues(labels: Labels<'service' | 'venue' | 'type'>, h: LatencyHistogram): object[] {
  const out: object[] = [];
  let cumulative = 0;
  LATENCY_BUCKETS_MS.forEach((boundMs, i) => {
    cumulative += h.counts[i]!;
    out.push({
      metricName: `${LATENCY_METRIC}_bucket`,
      labels: { ...labels, le: boundMs / 1000 },
      value: cumulative,
    });
  });
  const count = cumulative + h.counts[LATENCY_BUCKETS_MS.length]!;
  out.push(
    { metricName: `${LATENCY_METRIC}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
    { metricName: `${LATENCY_METRIC}_sum`, labels, value: h.sumMs / 1000 },
    { metricName: `${LATENCY_METRIC}_count`, labels, value: count },
  );
  return out;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
