/**
 * `--demo` end to end under a real core: the simulator child, both collector children pointed at it,
 * the collectors healthy and marked simulated, market data crossing the bus to the supervisor's
 * samples, and trades recorded in market/<venue>.db.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import type { BusSample } from '../../src/shared/bus';
import { MarketReader } from '../../src/services/collector/market-reader';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
let core: Core | null = null;
const dir = tempDir('vdemo-');

afterEach(async () => {
  await core?.close();
  core = null;
});
afterAll(() => dir.remove());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const COLLECTORS = ['binance-spot', 'binance-usdm', 'okx-spot', 'okx-swap', 'deribit'];

describe('demo mode', () => {
  it(
    'runs the simulator and the five collectors, healthy, simulated, publishing and recording',
    { timeout: 90_000 },
    async () => {
      const samples: BusSample[] = [];
      core = await createCore({
        mode: 'headless',
        dataDir: dir.path,
        servicesDir,
        demo: true,
        demoPorts: {
          'binance-spot': await freePort(),
          'binance-usdm': await freePort(),
          okx: await freePort(),
          deribit: await freePort(),
        },
      });
      const c = core;
      c.events.listen((event, payload) => event === 'bus.sample' && samples.push(payload as BusSample));
      expect(c.info().demo).toBe(true);
      const get = (name: string) => c.supervisor.get(name);
      await until(
        () => COLLECTORS.every((n) => get(n).state === 'running' && get(n).health === 'healthy'),
        'the five collectors running and healthy',
        60_000,
      );
      expect(get('simulator').state).toBe('running');
      expect(get('binance-spot').detail).toMatchObject({ simulated: true, venue: 'binance-spot' });
      for (const venue of COLLECTORS) {
        expect(get(venue).detail).toMatchObject({ simulated: true, venue });
        expect(get(venue).definition.dependsOn).toEqual(['simulator']);
      }
      // Market data reaches the supervisor only as samples.
      await until(
        () =>
          samples.some(
            (s) => s.service === 'binance-usdm' && (s.counts['md.binance-usdm.BTCUSDT.trade'] ?? 0) > 0,
          ),
        'a sample of USD-M trades',
        30_000,
      );
      // Per-stream metrics at 1 Hz.
      await until(
        () => (get('binance-spot').metrics?.['BTCUSDT.book.msgPerSec'] ?? 0) > 0,
        'book rate metric',
      );
      await until(() => existsSync(join(dir.path, 'market', 'binance-spot.db')), 'the market database');
      await until(() => {
        const reader = MarketReader.open(join(dir.path, 'market', 'binance-spot.db'));
        try {
          return reader.trades('BTCUSDT', 0, Date.now() + 1, 1).length > 0;
        } finally {
          reader.close();
        }
      }, 'recorded trades');
      // OKX and Deribit record too, in their own files; Deribit with the DVOL index (live and history).
      const recorded = (venue: string, read: (r: MarketReader) => boolean) => () => {
        const file = join(dir.path, 'market', `${venue}.db`);
        if (!existsSync(file)) return false;
        const reader = MarketReader.open(file);
        try {
          return read(reader);
        } finally {
          reader.close();
        }
      };
      const now = () => Date.now() + 1;
      await until(
        recorded('okx-swap', (r) => r.trades('BTC-USDT-SWAP', 0, now(), 1).length > 0),
        'OKX swap trades recorded',
      );
      await until(
        recorded('deribit', (r) => r.volatility('BTC', 0, now(), 60).length > 0),
        'DVOL history back-filled',
      );
      await until(
        recorded('deribit', (r) => r.volatility('ETH', 0, now(), 0).length > 0),
        'live DVOL recorded',
      );
    },
  );
});
