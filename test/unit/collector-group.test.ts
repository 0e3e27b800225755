/**
 * Several venues in one collector process: the configuration that asks for it, the group that names
 * every figure after its venue and reports the worst venue's health, and the latency histogram and
 * message counts each venue's statistics carry in the heartbeat.
 */
import { describe, expect, it } from 'vitest';
import { parseCollectorConfigs, type CollectorConfig } from '../../src/shared/collector-config';
import { LATENCY_BUCKETS_MS } from '../../src/shared/collector-streams';
import { resolveDefinition } from '../../src/shared/service-definition';
import type { CollectorSinks, VenueCollector } from '../../src/services/collector/collector';
import { CollectorGroup } from '../../src/services/collector/collector-group';
import { StreamStats } from '../../src/services/collector/stream-stats';

describe('a grouped collector configuration', () => {
  it('is one venue as before, or a list of venues each with its own settings', () => {
    const one = parseCollectorConfigs({ venue: 'deribit' });
    expect(one.ok && one.grouped).toBe(false);
    expect(one.ok && one.configs.map((c) => c.venue)).toEqual(['deribit']);
    const two = parseCollectorConfigs({
      venues: [{ venue: 'binance-spot', symbols: ['SOLUSDT'] }, { venue: 'okx-spot' }],
    });
    expect(two.ok && two.grouped).toBe(true);
    expect(two.ok && two.configs.map((c) => [c.venue, c.symbols[0]])).toEqual([
      ['binance-spot', 'SOLUSDT'],
      ['okx-spot', 'BTC-USDT'],
    ]);
  });

  it('refuses what cannot work, naming the field', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ venues: [] }, 'venues', /at least one venue/],
      [{ venues: 'binance-spot' }, 'venues', /list/],
      [
        { venues: [{ venue: 'okx-spot' }, { venue: 'okx-spot' }] },
        'venues.1.venue',
        /appears twice.*one writer/,
      ],
      [
        { venues: [{ venue: 'okx-spot', symbols: ['BTCUSDT'] }] },
        'venues.0.symbols.0',
        /spelled like BTC-USDT/,
      ],
      [{ venues: [{ venue: 'kraken' }] }, 'venues.0.venue', /must be one of/],
      [{ venues: [{ venue: 'okx-spot' }], symbols: ['X'] }, 'symbols', /only venues/],
    ];
    for (const [input, path, message] of cases) {
      const r = parseCollectorConfigs(input);
      expect(r.ok, JSON.stringify(input)).toBe(false);
      if (r.ok) continue;
      expect(r.path.join('.')).toBe(path);
      expect(r.error).toMatch(message);
    }
  });

  it('is checked when a service definition is saved', () => {
    const def = (config: unknown) =>
      resolveDefinition({
        name: 'c',
        kind: 'collector',
        program: { type: 'builtin', name: 'collector' },
        config,
      });
    expect(def({ venues: [{ venue: 'deribit' }, { venue: 'okx-swap' }] }).ok).toBe(true);
    const bad = def({ venues: [{ venue: 'deribit' }, { venue: 'deribit' }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.issues[0]!.path.join('.')).toBe('config.venues.1.venue');
  });
});

/** A venue collector whose figures the test sets; okx-spot never subscribes. */
function fakeCollector(config: CollectorConfig, now: () => number): VenueCollector {
  return {
    config,
    stats: new StreamStats([`${config.symbols[0]}.trade`], now),
    start: () => undefined,
    whenSubscribed: async () => config.venue !== 'okx-spot',
    pause: () => undefined,
    resume: () => undefined,
    close: async () => undefined,
  };
}

function group(venues: CollectorConfig['venue'][]) {
  let t = 1_000_000;
  const health: [string, string][] = [];
  const logs: string[] = [];
  const made: { stats: StreamStats; sinks: CollectorSinks }[] = [];
  const parsed = parseCollectorConfigs(
    venues.length === 1 ? { venue: venues[0] } : { venues: venues.map((venue) => ({ venue })) },
  );
  if (!parsed.ok) throw new Error(parsed.error);
  const g = new CollectorGroup(parsed.configs, {
    createCollector: (config, sinks) => {
      const c = fakeCollector(config, () => t);
      made.push({ stats: c.stats, sinks });
      return c;
    },
    openRecorder: () => null,
    publish: () => undefined,
    health: (h, m) => health.push([h, m]),
    log: (line) => logs.push(line),
  });
  return { g, made, health, logs, advance: (ms: number) => (t += ms), now: () => t };
}

describe('a collector group', () => {
  it('names nothing after the venue when it carries one (the figures the UI knows)', async () => {
    const { g, made, advance, now } = group(['binance-spot']);
    made[0]!.stats.message('BTCUSDT.trade', now(), now() - 3);
    advance(1000);
    expect(g.metrics()).toMatchObject({ 'BTCUSDT.trade.msgPerSec': 1, msgPerSec: 1, reconnects: 0 });
    expect(g.heartbeat().messages).toEqual({ 'BTCUSDT.trade': 1 });
    expect(Object.keys(g.heartbeat().latency)).toEqual(['trade']);
    expect((await g.start(10)).detail).toMatchObject({ venue: 'binance-spot', simulated: false });
  });

  it('names every figure after its venue when it carries several, and totals the rate', async () => {
    const { g, made, advance, now, logs } = group(['binance-spot', 'okx-spot']);
    made[0]!.stats.message('BTCUSDT.trade', now(), now());
    made[1]!.stats.message('BTC-USDT.trade', now(), now());
    made[1]!.stats.message('BTC-USDT.trade', now(), now());
    made[1]!.stats.reconnects = 4;
    advance(1000);
    const m = g.metrics();
    expect(m).toMatchObject({
      'binance-spot:BTCUSDT.trade.msgPerSec': 1,
      'okx-spot:BTC-USDT.trade.msgPerSec': 2,
      'okx-spot:reconnects': 4,
      msgPerSec: 3,
    });
    expect(m).not.toHaveProperty('reconnects');
    const beat = g.heartbeat();
    expect(beat.messages).toEqual({ 'binance-spot:BTCUSDT.trade': 1, 'okx-spot:BTC-USDT.trade': 2 });
    expect(Object.keys(beat.latency).sort()).toEqual(['binance-spot:trade', 'okx-spot:trade']);
    expect(Object.keys(beat.freshnessMs)).toEqual(['binance-spot:BTCUSDT.trade', 'okx-spot:BTC-USDT.trade']);
    made[1]!.sinks.log('connected');
    expect(logs).toEqual(['okx-spot: connected']);
    const started = await g.start(10);
    expect(started.subscribed).toBe(false);
    expect(started.notSubscribed).toEqual(['wss://ws.okx.com:8443']);
    expect(started.detail).toMatchObject({
      simulated: false,
      venues: [{ venue: 'binance-spot' }, { venue: 'okx-spot' }],
    });
  });

  it('is degraded while any venue is, naming each venue’s problem', () => {
    const { made, health } = group(['binance-spot', 'okx-spot']);
    made[0]!.sinks.health('healthy', 'all streams live');
    made[1]!.sinks.health('degraded', 'not connected: public');
    made[0]!.sinks.health('degraded', 'stale: BTCUSDT.trade');
    made[1]!.sinks.health('healthy', 'all streams live');
    made[0]!.sinks.health('healthy', 'all streams live');
    expect(health).toEqual([
      ['healthy', 'all streams live'],
      ['degraded', 'okx-spot: not connected: public'],
      ['degraded', 'binance-spot: stale: BTCUSDT.trade; okx-spot: not connected: public'],
      ['degraded', 'binance-spot: stale: BTCUSDT.trade'],
      ['healthy', 'all streams live'],
    ]);
  });
});

describe('stream statistics', () => {
  it('keep an exchange→local latency histogram per data type, cumulative, negative latency as none', () => {
    const stats = new StreamStats(['A.trade', 'B.trade', 'A.book'], () => 0);
    stats.message('A.trade', 1000, 1000); // 0 ms
    stats.message('B.trade', 1000, 1003); // clock ahead: -3 ms, counted as 0
    stats.message('B.trade', 1000, 993); // 7 ms
    stats.message('A.book', 1000, 0); // 1000 ms
    stats.message('A.book', 100_000, 0); // 100 s: a clock far off, left out
    const { latency, messages } = stats.heartbeat();
    expect(messages).toEqual({ 'A.trade': 1, 'B.trade': 2, 'A.book': 2 });
    const bucketOf = (ms: number) => LATENCY_BUCKETS_MS.findIndex((b) => ms <= b);
    const trade = new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
    trade[bucketOf(0)] = 2;
    trade[bucketOf(7)] = 1;
    expect(latency.trade).toEqual({ counts: trade, sumMs: 7, count: 3 });
    expect(latency.book!.count).toBe(1);
    expect(latency.book!.counts[bucketOf(1000)]).toBe(1);
    // Reports reset the per-second figures, never the cumulative ones.
    stats.report();
    expect(stats.heartbeat().latency.trade!.count).toBe(3);
  });
});
