/** GET /health's report: the overall status by the Dashboard's rule, services, and stream freshness. */
import { describe, expect, it } from 'vitest';
import { buildHealthReport } from '../../src/main/api/health-report';
import type { AppInfo } from '../../src/shared/api';
import { collectorStreams, readCollectorHeartbeat, splitStream } from '../../src/shared/collector-streams';
import { healthHttpStatus } from '../../src/shared/health';
import { serviceInfo } from '../helpers/service-info';

const NOW = 1_700_000_100_000;
const app: AppInfo = {
  name: 'Vigil',
  version: '0.1.0',
  mode: 'headless',
  platform: 'linux',
  arch: 'x64',
  runtime: { node: '20', electron: null },
  pid: 42,
  startedAt: NOW - 90_000,
  dataDir: '/tmp/v',
  demo: true,
};

const collector = (name: string, extra: Parameters<typeof serviceInfo>[0] = { name }) =>
  serviceInfo({
    kind: 'collector',
    program: { type: 'builtin', name: 'collector' },
    config: { venue: 'okx-swap' },
    startedAt: NOW - 60_000,
    lastHeartbeatAt: NOW - 400,
    metrics: {
      reconnects: 1,
      'BTC-USDT-SWAP.trade.msgPerSec': 12.345,
      'BTC-USDT-SWAP.trade.freshnessMs': 20,
      'BTC-USDT-SWAP.trade.gaps': 2,
      'BTC-USDT-SWAP.trade.resyncs': 0,
      // OKX funding comes every 30–90 s: 100 s is amber against its 180 s limit, not red.
      'BTC-USDT-SWAP.funding.msgPerSec': 0,
      'BTC-USDT-SWAP.funding.freshnessMs': 100_000,
      'BTC-USDT-SWAP.funding.gaps': 0,
      'BTC-USDT-SWAP.book.msgPerSec': 0,
      'BTC-USDT-SWAP.book.gaps': 0,
      msgPerSec: 12.345,
    },
    ...extra,
    name,
  });

describe('health report', () => {
  it('is healthy with every service up, and says so with 200', () => {
    const r = buildHealthReport(app, [collector('okx-swap')], NOW);
    expect(r).toMatchObject({
      status: 'healthy',
      problems: [],
      mode: 'headless',
      market: 'demo',
      uptimeSeconds: 90,
    });
    expect(healthHttpStatus(r.status)).toBe(200);
    expect(r.services[0]).toMatchObject({
      name: 'okx-swap',
      state: 'running',
      pid: 1234,
      uptimeSeconds: 60,
      heartbeatAgeSeconds: 0.4,
      restarts: 0,
    });
  });

  it('judges each stream against its own stale limit and reports its gaps', () => {
    const streams = buildHealthReport(app, [collector('okx-swap')], NOW).services[0]!.streams;
    expect(streams).toEqual([
      expect.objectContaining({
        stream: 'BTC-USDT-SWAP.trade',
        venue: 'okx-swap',
        symbol: 'BTC-USDT-SWAP',
        type: 'trade',
        freshness: 'green',
        ageSeconds: 0.02,
        staleAfterSeconds: 30,
        gaps: 2,
        messagesPerSecond: 12.35,
      }),
      expect.objectContaining({ type: 'funding', freshness: 'amber', staleAfterSeconds: 180 }),
      expect.objectContaining({ type: 'book', freshness: 'none', ageSeconds: null }),
    ]);
  });

  it('is degraded (still 200) when a running service is degraded or over its soft memory limit', () => {
    const degraded = collector('okx-swap', {
      name: 'x',
      health: 'degraded',
      healthReason: 'stale: BTC.trade',
    });
    const r = buildHealthReport(app, [degraded], NOW);
    expect(r.status).toBe('degraded');
    expect(r.problems).toEqual([{ service: 'okx-swap', what: 'degraded: stale: BTC.trade' }]);
    expect(healthHttpStatus(r.status)).toBe(200);

    const fat = serviceInfo({ name: 'fat', rssBytes: 600e6 });
    fat.definition.memory.softBytes = 500e6;
    expect(buildHealthReport(app, [fat], NOW).status).toBe('degraded');
  });

  it('is unhealthy (503) when a service is fatal, in backoff or restarting after failures', () => {
    for (const spec of [
      { state: 'fatal' as const },
      { state: 'backoff' as const },
      { state: 'starting' as const, failures: 2 },
    ]) {
      const r = buildHealthReport(app, [collector('a'), serviceInfo({ name: 'b', pid: null, ...spec })], NOW);
      expect(r.status).toBe('unhealthy');
      expect(r.problems.map((p) => p.service)).toEqual(['b']);
      expect(healthHttpStatus(r.status)).toBe(503);
    }
  });

  it('counts a stopped service as a choice, and no services as nothing wrong', () => {
    const stopped = serviceInfo({ name: 'off', state: 'stopped', health: null, pid: null });
    expect(buildHealthReport(app, [stopped], NOW).status).toBe('healthy');
    expect(buildHealthReport({ ...app, demo: false }, [], NOW)).toMatchObject({
      status: 'healthy',
      market: 'live',
    });
  });

  it('shows no freshness for a collector that is not running', () => {
    const down = collector('okx-swap', { name: 'x', state: 'stopped', pid: null, health: null });
    const streams = buildHealthReport(app, [down], NOW).services[0]!.streams;
    expect(streams.every((s) => s.freshness === 'none' && s.ageSeconds === null)).toBe(true);
    expect(buildHealthReport(app, [down], NOW).services[0]!.uptimeSeconds).toBeNull();
  });
});

describe('collector streams', () => {
  it('names the venue of each stream in a collector carrying several', () => {
    expect(splitStream('BTCUSDT.trade')).toEqual({ venue: null, symbol: 'BTCUSDT', type: 'trade' });
    expect(splitStream('okx-swap:BTC-USDT-SWAP.funding')).toEqual({
      venue: 'okx-swap',
      symbol: 'BTC-USDT-SWAP',
      type: 'funding',
    });
    const grouped = serviceInfo({
      name: 'group',
      kind: 'collector',
      program: { type: 'builtin', name: 'collector' },
      config: { venues: [{ venue: 'binance-spot' }, { venue: 'okx-swap', staleAfterMs: 10_000 }] },
      metrics: {
        'binance-spot:BTCUSDT.trade.msgPerSec': 3,
        'binance-spot:BTCUSDT.trade.freshnessMs': 10,
        'okx-swap:BTC-USDT-SWAP.funding.msgPerSec': 0,
        'okx-swap:BTC-USDT-SWAP.funding.freshnessMs': 150_000,
        'binance-spot:msgPerSec': 3,
      },
    });
    expect(collectorStreams(grouped)).toEqual([
      expect.objectContaining({
        venue: 'binance-spot',
        symbol: 'BTCUSDT',
        limitMs: 30_000,
        freshness: 'green',
      }),
      expect.objectContaining({ venue: 'okx-swap', type: 'funding', limitMs: 180_000, freshness: 'amber' }),
    ]);
  });

  it('keeps only well-formed counters from a heartbeat (any program can send one)', () => {
    const counts = [1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(
      readCollectorHeartbeat({
        messages: { 'A.trade': 5, 'B.trade': -1, 'C.trade': 'x' },
        latency: { trade: { counts, sumMs: 12, count: 7 }, book: { counts: [1], sumMs: 1, count: 1 } },
      }),
    ).toEqual({ messages: { 'A.trade': 5 }, latency: { trade: { counts, sumMs: 12, count: 7 } } });
    expect(readCollectorHeartbeat(null)).toEqual({ messages: {}, latency: {} });
  });
});
