/**
 * market.gaps and market.series are read on their own thread: a big series read does not hold up
 * other commands on the core's thread, closing the core answers a read in flight with an error and
 * ends the thread, and a thread that cannot start fails its reads with an error naming why.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { MarketReadThread } from '../../src/main/api/market-read-thread';
import { readSeries, type SeriesQuery } from '../../src/main/api/market-reads';
import { ApiError, type Envelope } from '../../src/shared/errors';
import type { MarketSeriesResult } from '../../src/shared/market-api';
import { fillUsdm } from '../helpers/market-fill';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const FROM = NOW - 2 * DAY;
const series: SeriesQuery = {
  venue: 'binance-usdm',
  symbol: 'BTCUSDT',
  from: FROM,
  to: NOW,
  maxPoints: 2000,
  resolution: 'auto',
};

const dir = tempDir('vigil-market-thread-');

beforeAll(() => {
  // Two days at live-like rates: ~360,000 rows, a series read of tens of milliseconds.
  fillUsdm({ dataDir: dir.path, symbol: 'BTCUSDT', from: FROM, to: NOW, tradeEveryMs: 1000 });
}, 120_000);

afterAll(() => dir.remove());

function openCore(): Promise<Core> {
  return createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir,
    definitions: [],
    supervisor: { autostart: false },
  });
}

describe('the market read thread behind the core', () => {
  it('answers services.list while a big market.series is still being read, and the series is what a direct read gives', async () => {
    const core = await openCore();
    try {
      // The first read starts the thread; the one measured below finds it running.
      await core.router.dispatch('market.series', { ...series, include: ['lsr'] }, { transport: 'internal' });
      const order: string[] = [];
      const seriesReply = core.router
        .dispatch('market.series', series, { transport: 'internal' })
        .then((r) => (order.push('market.series'), r as Envelope<MarketSeriesResult>));
      const listReply = core.router
        .dispatch('services.list', {}, { transport: 'internal' })
        .then((r) => (order.push('services.list'), r));
      const [s, list] = await Promise.all([seriesReply, listReply]);
      // On the core's thread the series would have been read whole before services.list even started.
      expect(order).toEqual(['services.list', 'market.series']);
      expect(list).toMatchObject({ ok: true, result: [] });
      if (!s.ok) throw new Error(s.error.message);
      expect(s.result.candles!.points.length).toBeGreaterThan(100);
      expect(s.result.funding!.length).toBeGreaterThan(100);
      expect(s.result).toEqual(readSeries({ dataDir: dir.path }, series));
    } finally {
      await core.close();
    }
  });

  it('answers a read in flight with an error when the core closes', async () => {
    const core = await openCore();
    const inFlight = core.router.dispatch('market.series', series, { transport: 'internal' });
    await core.close();
    expect(await inFlight).toMatchObject({
      ok: false,
      error: { code: 'unavailable', message: expect.stringMatching(/market\.series.*shutting down/) },
    });
  });
});

describe('MarketReadThread', () => {
  it('starts at the first read, keeps its thread, and on close fails reads in flight and after, and ends the thread', async () => {
    const thread = new MarketReadThread({ dataDir: dir.path });
    expect(thread.threadId).toBeNull();
    const gaps = await thread.read('gaps', { limit: 100 });
    expect(gaps).toMatchObject({ items: [], total: 0 });
    const id = thread.threadId;
    expect(id).toBeGreaterThan(0);

    const inFlight = thread.read('series', series);
    expect(thread.threadId).toBe(id); // the same thread serves every read
    const closed = thread.close();
    await expect(inFlight).rejects.toThrow(ApiError);
    await expect(inFlight).rejects.toMatchObject({
      code: 'unavailable',
      message: 'market.series was not answered: Vigil is shutting down',
    });
    await closed;
    expect(thread.threadId).toBeNull();
    await expect(thread.read('gaps', { limit: 100 })).rejects.toMatchObject({ code: 'unavailable' });
    expect(thread.threadId).toBeNull(); // a read after close starts nothing
  });

  it('fails reads with an error naming why when its thread cannot start, and tries again at the next read', async () => {
    const missing = resolve(dir.path, 'no-such-worker.js');
    const thread = new MarketReadThread({ dataDir: dir.path }, { file: missing, options: {} });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = await thread.read('gaps', { limit: 10 }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(ApiError); // a fault of Vigil's: the router reports it as internal
        expect((error as Error).message).toMatch(/^the market read thread failed: .*no-such-worker/);
        expect(thread.threadId).toBeNull();
      }
    } finally {
      await thread.close();
    }
  });
});
