/**
 * GET /metrics' exposition from given services: names and labels by Prometheus conventions, counters
 * from the collectors' cumulative figures, the latency histogram cumulative per bucket, bounded labels.
 * (test/e2e/ops.test.ts runs `promtool check metrics` on a live demo server's output.)
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../src/main/api/prometheus-metrics';
import { configSnapshot } from '../../src/main/api/trader-history';
import { traderConfigSchema, type TraderSnapshot } from '../../src/shared/trader-api';
import type { AppInfo } from '../../src/shared/api';
import type { ServiceInfo } from '../../src/shared/services';
import { serviceInfo } from '../helpers/service-info';

const NOW = 1_700_000_100_000;
const app: AppInfo = {
  name: 'Vigil',
  version: '0.1.0',
  mode: 'desktop',
  platform: 'linux',
  arch: 'x64',
  runtime: { node: '20', electron: null },
  pid: 42,
  startedAt: NOW - 90_000,
  dataDir: '/tmp/v',
  demo: false,
};

const subscriber = (id: string, queueDepth: number, dropped: number) => ({
  id,
  patterns: ['md.>'],
  remote: true,
  queueDepth,
  capacity: 10_000,
  delivered: 100,
  dropped,
  warnings: 0,
  deliveredPerSec: 1,
  droppedPerSec: 0,
});

function services(): ServiceInfo[] {
  const spot = serviceInfo({
    name: 'binance-spot',
    kind: 'collector',
    program: { type: 'builtin', name: 'collector' },
    config: { venue: 'binance-spot' },
    startedAt: NOW - 60_000,
    lastHeartbeatAt: NOW - 250,
    restarts: 3,
    cpuPercent: 12.5,
    rssBytes: 90e6,
    metrics: {
      reconnects: 2,
      parseErrors: 0,
      'BTCUSDT.trade.msgPerSec': 40,
      'BTCUSDT.trade.freshnessMs': 30,
      'BTCUSDT.trade.gaps': 1,
      'BTCUSDT.trade.resyncs': 4,
      msgPerSec: 40,
      'bus.published': 500,
      'bus.delivered': 450,
      'bus.dropped': 7,
      'bus.rejected': 0,
      'bus.subscribers': 2,
    },
    heartbeat: {
      messages: { 'BTCUSDT.trade': 1234 },
      latency: { trade: { counts: [5, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], sumMs: 20_020, count: 10 } },
    },
    bus: [subscriber('vigil-supervisor', 3, 7), subscriber('binance-spot/sub-17', 9, 0)],
  });
  const grouped = serviceInfo({
    name: 'derivs',
    kind: 'collector',
    program: { type: 'builtin', name: 'collector' },
    config: { venues: [{ venue: 'okx-swap' }, { venue: 'deribit' }] },
    startedAt: NOW - 10_000,
    metrics: {
      'okx-swap:reconnects': 1,
      'deribit:reconnects': 0,
      'okx-swap:BTCUSDT.trade.msgPerSec': 1,
      'okx-swap:BTCUSDT.trade.gaps': 0,
      'deribit:BTC-PERPETUAL.trade.msgPerSec': 1,
      'deribit:BTC-PERPETUAL.trade.gaps': 0,
    },
    heartbeat: {
      messages: { 'okx-swap:BTCUSDT.trade': 5 },
      latency: {
        'deribit:trade': { counts: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], sumMs: 9000, count: 1 },
      },
    },
  });
  const fatal = serviceInfo({ name: 'crasher', state: 'fatal', health: null, pid: null, restarts: 5 });
  fatal.definition.memory.softBytes = 100e6;
  fatal.definition.memory.hardBytes = 200e6;
  return [spot, grouped, fatal];
}

async function render(list = services()): Promise<string[]> {
  const metrics = new PrometheusMetrics({ app: () => app, services: () => list });
  return (await metrics.render(NOW)).split('\n');
}

const series = (lines: string[], prefix: string): string[] => lines.filter((l) => l.startsWith(prefix));

describe('Prometheus metrics', () => {
  it('says which Vigil it is and its overall status, one line per status', async () => {
    const lines = await render();
    expect(lines).toContain('vigil_info{version="0.1.0",mode="desktop",market="live"} 1');
    expect(series(lines, 'vigil_health_status{')).toEqual([
      'vigil_health_status{status="healthy"} 0',
      'vigil_health_status{status="degraded"} 0',
      'vigil_health_status{status="unhealthy"} 1',
    ]);
    expect(lines.some((l) => l.startsWith('process_resident_memory_bytes '))).toBe(true);
  });

  it('gives each service its state, restarts, CPU, memory and heartbeat age in base units', async () => {
    const lines = await render();
    expect(series(lines, 'vigil_service_state{service="crasher"')).toHaveLength(8);
    expect(lines).toContain('vigil_service_state{service="crasher",state="fatal"} 1');
    expect(lines).toContain('vigil_service_state{service="crasher",state="running"} 0');
    expect(lines).toContain('vigil_service_health{service="binance-spot",health="healthy"} 1');
    expect(lines).toContain('vigil_service_restarts_total{service="binance-spot"} 3');
    expect(lines).toContain('vigil_service_restarts_total{service="crasher"} 5');
    expect(lines).toContain('vigil_service_cpu_usage_ratio{service="binance-spot"} 0.125');
    expect(lines).toContain('vigil_service_resident_memory_bytes{service="binance-spot"} 90000000');
    expect(lines).toContain('vigil_service_heartbeat_age_seconds{service="binance-spot"} 0.25');
    expect(lines).toContain(
      `vigil_service_start_time_seconds{service="binance-spot"} ${(NOW - 60_000) / 1000}`,
    );
    expect(lines).toContain('vigil_service_memory_limit_bytes{service="crasher",limit="hard"} 200000000');
    // A service with no process has no current figures.
    expect(series(lines, 'vigil_service_resident_memory_bytes{service="crasher"')).toEqual([]);
    expect(series(lines, 'vigil_service_health{service="crasher"')).toEqual([]);
  });

  it('gives each collector stream its counters, age and stale limit, with the venue even when grouped', async () => {
    const lines = await render();
    const trade = 'service="binance-spot",venue="binance-spot",symbol="BTCUSDT",type="trade"';
    expect(lines).toContain(`vigil_stream_messages_total{${trade}} 1234`);
    expect(lines).toContain(`vigil_stream_gaps_total{${trade}} 1`);
    expect(lines).toContain(`vigil_stream_resyncs_total{${trade}} 4`);
    expect(lines).toContain(`vigil_stream_last_message_age_seconds{${trade}} 0.03`);
    expect(lines).toContain(`vigil_stream_stale_after_seconds{${trade}} 30`);
    expect(lines).toContain(
      'vigil_collector_reconnects_total{service="binance-spot",venue="binance-spot"} 2',
    );
    expect(lines).toContain('vigil_collector_reconnects_total{service="derivs",venue="okx-swap"} 1');
    expect(lines).toContain(
      'vigil_stream_messages_total{service="derivs",venue="okx-swap",symbol="BTCUSDT",type="trade"} 5',
    );
    expect(series(lines, 'vigil_stream_gaps_total{service="derivs",venue="deribit"')).toHaveLength(1);
  });

  it('exposes latency as a histogram in seconds, cumulative per bucket', async () => {
    const lines = await render();
    const labels = 'service="binance-spot",venue="binance-spot",type="trade"';
    expect(lines).toContain('# TYPE vigil_stream_latency_seconds histogram');
    expect(lines).toContain(`vigil_stream_latency_seconds_bucket{${labels},le="0.001"} 5`);
    expect(lines).toContain(`vigil_stream_latency_seconds_bucket{${labels},le="0.0025"} 5`);
    expect(lines).toContain(`vigil_stream_latency_seconds_bucket{${labels},le="0.005"} 8`);
    expect(lines).toContain(`vigil_stream_latency_seconds_bucket{${labels},le="5"} 8`);
    expect(lines).toContain(`vigil_stream_latency_seconds_bucket{${labels},le="+Inf"} 10`);
    expect(lines).toContain(`vigil_stream_latency_seconds_sum{${labels}} 20.02`);
    expect(lines).toContain(`vigil_stream_latency_seconds_count{${labels}} 10`);
    expect(lines).toContain(
      'vigil_stream_latency_seconds_count{service="derivs",venue="deribit",type="trade"} 1',
    );
  });

  it('reports bus counters per publisher, and queues only of subscribers named by a service', async () => {
    const lines = await render();
    expect(lines).toContain('vigil_bus_messages_published_total{service="binance-spot"} 500');
    expect(lines).toContain('vigil_bus_messages_dropped_total{service="binance-spot"} 7');
    expect(lines).toContain('vigil_bus_subscribers{service="binance-spot"} 2');
    expect(lines).toContain(
      'vigil_bus_queue_depth_messages{service="binance-spot",subscriber="vigil-supervisor"} 3',
    );
    expect(lines).toContain(
      'vigil_bus_subscriber_dropped_messages_total{service="binance-spot",subscriber="vigil-supervisor"} 7',
    );
    // `x/sub-17` is a subscription's id, new with every subscription: never a label value.
    expect(lines.some((l) => l.includes('sub-17'))).toBe(false);
  });

  it('forgets what is gone: a removed service leaves no series at the next scrape', async () => {
    const list = services();
    const metrics = new PrometheusMetrics({ app: () => app, services: () => list });
    expect(await metrics.render(NOW)).toContain('service="crasher"');
    list.pop();
    expect(await metrics.render(NOW)).not.toContain('service="crasher"');
  });

  it('sums optimizer progress over runs, with no per-run label', async () => {
    const metrics = new PrometheusMetrics({
      app: () => app,
      services: () => [],
      optimizer: () => ({
        runs: { queued: 1, running: 2, done: 5, cancelled: 0, failed: 1 },
        unfinishedTrials: { done: 30, failed: 2, total: 120 },
      }),
    });
    const lines = (await metrics.render(NOW)).split('\n');
    expect(lines).toContain('vigil_optimizer_runs{status="running"} 2');
    expect(lines).toContain('vigil_optimizer_runs{status="done"} 5');
    expect(lines).toContain('vigil_optimizer_unfinished_trials{state="total"} 120');
    expect(lines).toContain('vigil_optimizer_unfinished_trials{state="done"} 30');
    expect(lines.filter((l) => l.startsWith('vigil_optimizer_') && l.includes('run='))).toEqual([]);
  });

  it('reports each running trader’s equity, P&L, positions per symbol and why opening is blocked', async () => {
    const base = configSnapshot(
      'paper',
      traderConfigSchema.parse({ symbols: ['BTCUSDT', 'ETHUSDT'], equity: 10_000 }),
      NOW,
    );
    const trader: TraderSnapshot = {
      ...base,
      running: true,
      blocks: ['stale', 'person'],
      account: {
        ...base.account,
        equity: 10_012.5,
        realizedPnl: 20,
        unrealizedPnl: -3.25,
        fees: 4.25,
        dayStartEquity: 10_000,
        dayPnl: 12.5,
      },
      positions: [
        {
          symbol: 'BTCUSDT',
          qty: -0.25,
          avgPrice: 100,
          mark: 101,
          unrealizedPnl: -0.25,
          realizedPnl: 0,
          fees: 0,
        },
      ],
    };
    const metrics = new PrometheusMetrics({ app: () => app, services: () => [], traders: () => [trader] });
    const text = await metrics.render(NOW);
    const lines = text.split('\n');
    expect(lines).toContain('vigil_trader_equity{service="paper"} 10012.5');
    expect(series(lines, 'vigil_trader_pnl{')).toEqual([
      'vigil_trader_pnl{service="paper",kind="realized"} 20',
      'vigil_trader_pnl{service="paper",kind="unrealized"} -3.25',
      'vigil_trader_pnl{service="paper",kind="day"} 12.5',
    ]);
    // Flat symbols too: a series that vanishes when flat would read as missing data.
    expect(series(lines, 'vigil_trader_position{')).toEqual([
      'vigil_trader_position{service="paper",symbol="BTCUSDT"} -0.25',
      'vigil_trader_position{service="paper",symbol="ETHUSDT"} 0',
    ]);
    expect(series(lines, 'vigil_trader_opening_blocked{')).toEqual([
      'vigil_trader_opening_blocked{service="paper",reason="person"} 1',
      'vigil_trader_opening_blocked{service="paper",reason="kill-switch"} 0',
      'vigil_trader_opening_blocked{service="paper",reason="daily-loss"} 0',
      'vigil_trader_opening_blocked{service="paper",reason="stale"} 1',
      'vigil_trader_opening_blocked{service="paper",reason="warming"} 0',
      'vigil_trader_opening_blocked{service="paper",reason="reloading"} 0',
    ]);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (check.error)
      throw new Error(`promtool is needed (apt-get install prometheus): ${check.error.message}`);
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('follows the naming conventions: vigil_ prefix, snake case, _total only on counters', async () => {
    const lines = await render();
    const types = new Map(
      lines.filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ').slice(2) as [string, string]),
    );
    for (const [name, type] of types) {
      expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
      if (name.startsWith('vigil_')) expect(name.endsWith('_total')).toBe(type === 'counter');
    }
  });
});
