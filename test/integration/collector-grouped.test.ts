/**
 * One collector process carrying two venues, under a real core against the market simulator: both
 * venues publish, record into their own market/<venue>.db, and show in /health and /metrics under
 * their own venue; the default demo keeps one process per venue.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { demoDefinitions } from '../../src/main/supervisor/definitions';
import type { BusSample } from '../../src/shared/bus';
import { resolveDefinition } from '../../src/shared/service-definition';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const servicesDir = resolve(import.meta.dirname, '../../out/services');
let core: Core | null = null;
const dir = tempDir('vgroup-');

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

describe('a collector carrying several venues', () => {
  it('collects, records and reports each venue under its own name', { timeout: 90_000 }, async () => {
    const demo = demoDefinitions(servicesDir, {
      'binance-spot': await freePort(),
      'binance-usdm': await freePort(),
      okx: await freePort(),
      deribit: await freePort(),
    });
    const simulator = demo.find((d) => d.name === 'simulator')!;
    // The demo's own collector settings for two venues, in one service.
    const configOf = (name: string) => demo.find((d) => d.name === name)!.config;
    const grouped = resolveDefinition({
      name: 'spot-group',
      kind: 'collector',
      program: { type: 'builtin', name: 'collector' },
      dependsOn: ['simulator'],
      config: { venues: [configOf('binance-spot'), configOf('okx-spot')] },
    });
    if (!grouped.ok) throw new Error(grouped.error.message);

    const samples: BusSample[] = [];
    core = await createCore({
      mode: 'headless',
      dataDir: dir.path,
      servicesDir,
      definitions: [simulator, grouped.definition],
    });
    const c = core;
    c.events.listen((event, payload) => event === 'bus.sample' && samples.push(payload as BusSample));
    const group = () => c.supervisor.get('spot-group');
    await until(
      () => group().state === 'running' && group().health === 'healthy',
      'the grouped collector running and healthy',
      60_000,
    );
    expect(group().detail).toMatchObject({
      simulated: true,
      venues: [{ venue: 'binance-spot' }, { venue: 'okx-spot' }],
    });

    // Both venues' streams are fresh, each under its venue.
    await until(() => {
      const streams = c.ops.health().services.find((s) => s.name === 'spot-group')?.streams ?? [];
      return (
        streams.some(
          (s) => s.venue === 'binance-spot' && s.symbol === 'BTCUSDT' && s.freshness === 'green',
        ) && streams.some((s) => s.venue === 'okx-spot' && s.symbol === 'BTC-USDT' && s.freshness === 'green')
      );
    }, 'fresh streams of both venues in /health');
    const metrics = await c.ops.metrics();
    for (const venue of ['binance-spot', 'okx-spot']) {
      expect(metrics).toMatch(
        new RegExp(
          `vigil_stream_messages_total\\{service="spot-group",venue="${venue}",[^}]*type="trade"\\} [1-9]`,
        ),
      );
      expect(metrics).toContain(`vigil_collector_reconnects_total{service="spot-group",venue="${venue}"}`);
      expect(metrics).toContain(
        `vigil_stream_latency_seconds_count{service="spot-group",venue="${venue}",type="trade"}`,
      );
    }

    // One process publishes both venues' subjects, and records each into its own database.
    await until(
      () =>
        samples.some(
          (s) =>
            s.service === 'spot-group' &&
            Object.keys(s.counts).some((k) => k.startsWith('md.binance-spot.')) &&
            Object.keys(s.counts).some((k) => k.startsWith('md.okx-spot.')),
        ),
      'samples of both venues from the one service',
    );
    for (const venue of ['binance-spot', 'okx-spot'])
      await until(() => existsSync(join(dir.path, 'market', `${venue}.db`)), `market/${venue}.db`);

    // Stopping it stops both venues at once, cleanly.
    await c.supervisor.stop('spot-group');
    expect(group().state).toBe('stopped');
    expect(group().lastExit).toMatchObject({ code: 0 });
  });
});
