import { describe, expect, it } from 'vitest';
import { resolveDefinition } from '../../src/shared/service-definition';
import { defaultCollectorConfig, parseCollectorConfig } from '../../src/shared/collector-config';

const collector = (config: unknown) =>
  resolveDefinition({
    name: 'binance-spot',
    kind: 'collector',
    program: { type: 'builtin', name: 'collector' },
    config,
  });

describe('a program configuration in a service definition', () => {
  it('is checked for built-in collectors when saved, naming the field', () => {
    const ok = collector({ venue: 'binance-spot', symbols: ['BTCUSDT'] });
    expect(ok.ok).toBe(true);
    const cases: [unknown, string, RegExp][] = [
      [{ venue: 'kraken' }, 'config.venue', /must be one of/],
      [{ venue: 'binance-spot', symbols: [] }, 'config.symbols', /at least one symbol/],
      [{ venue: 'binance-spot', symbols: ['btc usdt'] }, 'config.symbols.0', /upper-case/],
      [{ venue: 'binance-spot', types: ['trade', 'trade'] }, 'config.types', /repeat/],
      [{ venue: 'binance-usdm', bookDepth: 300 }, 'config.bookDepth', /5, 10, 20, 50, 100, 500, 1000/],
      [{ venue: 'binance-spot', endpoints: { ws: 'http://x' } }, 'config.endpoints.ws', /ws:\/\//],
      [{ venue: 'binance-spot', surprise: 1 }, 'config', /surprise|Unrecognized/],
      [{ venue: 'binance-spot', types: ['trade', 'funding'] }, 'config.types', /binance-spot has no funding/],
      [{ venue: 'okx-spot', types: ['book', 'oi'] }, 'config.types', /okx-spot has no oi data/],
      [{ venue: 'binance-usdm', types: ['dvol'] }, 'config.types', /binance-usdm has no dvol/],
      [{ venue: 'deribit', types: ['lsr'] }, 'config.types', /deribit has no lsr/],
      [{ venue: 'okx-swap', symbols: ['BTC-USDT'] }, 'config.symbols.0', /spelled like BTC-USDT-SWAP/],
      [{ venue: 'okx-spot', symbols: ['BTCUSDT'] }, 'config.symbols.0', /spelled like BTC-USDT/],
      [{ venue: 'binance-spot', symbols: ['BTC-USDT'] }, 'config.symbols.0', /spelled like BTCUSDT/],
      [{ venue: 'okx-swap', bookDepth: 1000 }, 'config.bookDepth', /at most 400 levels/],
      [{ venue: 'deribit', dvolHistoryDays: 400 }, 'config.dvolHistoryDays', /365/],
    ];
    for (const [config, path, message] of cases) {
      const r = collector(config);
      expect(r.ok, JSON.stringify(config)).toBe(false);
      if (r.ok) continue;
      const issue = r.error.issues[0]!;
      expect(issue.path.join('.'), JSON.stringify(config)).toBe(path);
      expect(issue.message).toMatch(message);
    }
  });

  it('merges over the venue defaults: live public endpoints, BTCUSDT and ETHUSDT', () => {
    const r = parseCollectorConfig({ venue: 'binance-usdm', endpoints: { rest: 'http://127.0.0.1:9' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(r.config.endpoints).toEqual({
      ...defaultCollectorConfig('binance-usdm').endpoints,
      rest: 'http://127.0.0.1:9',
    });
    expect(defaultCollectorConfig('binance-usdm').endpoints.ws).toBe('wss://fstream.binance.com');
  });

  it('has defaults for the seed five venues, in their own instrument names', () => {
    expect(defaultCollectorConfig('okx-spot').symbols).toEqual(['BTC-USDT', 'ETH-USDT']);
    expect(defaultCollectorConfig('okx-swap').symbols).toEqual(['BTC-USDT-SWAP', 'ETH-USDT-SWAP']);
    expect(defaultCollectorConfig('okx-swap').bookDepth).toBe(400);
    expect(defaultCollectorConfig('deribit').symbols).toEqual(['BTC-PERPETUAL', 'ETH-PERPETUAL']);
    expect(defaultCollectorConfig('deribit').types).toContain('dvol');
    for (const venue of ['okx-spot', 'okx-swap', 'deribit'] as const) {
      expect(parseCollectorConfig({ venue }).ok, venue).toBe(true);
    }
  });

  it('is optional for other programs, and bounded', () => {
    const custom = resolveDefinition({
      name: 'mine',
      kind: 'custom',
      program: { type: 'command', command: '/bin/true', args: [] },
      config: { anything: [1, 2, 3] },
    });
    expect(custom.ok).toBe(true);
    const huge = resolveDefinition({
      name: 'mine',
      kind: 'custom',
      program: { type: 'command', command: '/bin/true', args: [] },
      config: { blob: 'x'.repeat(70_000) },
    });
    expect(huge.ok).toBe(false);
  });
});
