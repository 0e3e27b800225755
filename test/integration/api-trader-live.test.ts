/**
 * The real trader program through the headless WebSocket API, fed on the bus by a stand-in collector
 * (test/fixtures/trader/md-feed.ts: a sine-wave price, 1 s candles, a fast crossover): its start needs
 * the confirmation, its state is live, new limits apply at once, opening stops and resumes, stale data
 * raises an alert that reaches alerts.list (and clears when data flows again), the kill switch and
 * stop-with-flatten leave it flat, and trader.update events follow it to its stop.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { startHeadlessServer, type HeadlessServer } from '../../src/main/server/headless-server';
import type { AlertRecord, Page } from '../../src/shared/history';
import { resolveDefinition, type ServiceDefinitionInput } from '../../src/shared/service-definition';
import type { ServiceInfo } from '../../src/shared/services';
import type { TraderPage, TraderOrder, TraderSnapshot, TraderUpdateEvent } from '../../src/shared/trader-api';
import { connect, type TestClient } from '../helpers/ws-client';
import { tempDir } from '../helpers/temp-dir';

const token = 'test-token-trader-live-0123456789';
const repo = resolve(import.meta.dirname, '../..');
const out = resolve(repo, 'out');
const feed = resolve(import.meta.dirname, '../fixtures/trader/md-feed.ts');
const limits = {
  maxPositionNotional: 2000,
  maxOrderNotional: 2000,
  maxOrdersPerMinute: 60,
  maxDailyLoss: 500,
};

const inputs: ServiceDefinitionInput[] = [
  {
    // A collector as far as the core can tell: its venue is in its configuration.
    name: 'md-feed',
    kind: 'collector',
    program: { type: 'command', command: process.execPath, args: ['--import', 'tsx', feed] },
    protocol: 'vigil',
    cwd: repo,
    heartbeat: { intervalMs: 500, timeoutMs: 10_000 },
    config: { venue: 'binance-spot' },
  },
  {
    name: 'paper',
    kind: 'trader',
    program: { type: 'builtin', name: 'trader' },
    config: {
      mode: 'paper',
      venue: 'binance-spot',
      symbols: ['BTCUSDT'],
      resolution: '1s',
      strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
      equity: 10_000,
      costs: { feeBps: 1, slippageBps: 1, latencyMs: 50 },
      limits,
      staleAfterMs: 1500,
    },
  },
];

let dir: ReturnType<typeof tempDir>;
let core: Core;
let server: HeadlessServer;
let client: TestClient;

beforeAll(async () => {
  dir = tempDir();
  const definitions = inputs.map((i) => {
    const r = resolveDefinition(i);
    if (!r.ok) throw r.error;
    return r.definition;
  });
  core = await createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir: resolve(out, 'services'),
    definitions,
    supervisor: { autostart: false },
  });
  server = await startHeadlessServer({
    host: '127.0.0.1',
    port: 0,
    token,
    rendererDir: resolve(out, 'renderer'),
    router: core.router,
    events: core.events,
    serverName: 'vigil test',
  });
  client = await connect(`ws://127.0.0.1:${server.port}/api/ws?token=${token}`);
  await client.raw(
    JSON.stringify({
      type: 'subscribe',
      id: 'sub',
      topics: ['trader.update', 'service.alert', 'alert.changed'],
    }),
  );
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await core?.close();
  dir?.remove();
});

async function result<T>(command: string, input: unknown): Promise<T> {
  const reply = await client.call(command, input);
  if (!reply.ok) throw new Error(`${command}: ${reply.error.code} ${reply.error.message}`);
  return reply.result as T;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const state = () => result<TraderSnapshot>('trader.state', { name: 'paper' });
const updates = () =>
  client.events.filter((e) => e.event === 'trader.update').map((e) => e.payload as TraderUpdateEvent);
const position = (s: TraderSnapshot) => s.positions.find((p) => p.symbol === 'BTCUSDT')?.qty ?? 0;

describe('a running trader through the API', () => {
  it(
    'trades on paper once confirmed, live state, limits, opening, stale data, kill and stop with flatten',
    { timeout: 240_000 },
    async () => {
      await result('services.start', { name: 'md-feed' });
      await until(
        'the feed running',
        async () => (await result<ServiceInfo>('services.get', { name: 'md-feed' })).state === 'running',
      );

      // Not without the person's confirmation.
      const refused = await client.call('services.start', { name: 'paper' });
      expect(refused).toMatchObject({
        ok: false,
        error: { code: 'confirmation-required', field: 'confirm' },
      });
      await result('services.start', { name: 'paper', confirm: { mode: 'paper' } });
      await until(
        'the trader running',
        async () => (await result<ServiceInfo>('services.get', { name: 'paper' })).state === 'running',
      );

      // Live state, and updates as it goes.
      const live = await until('quotes reaching the trader', async () => {
        const s = await state();
        return s.running && s.feeds[0]?.bid !== null ? s : null;
      });
      expect(live).toMatchObject({
        service: 'paper',
        mode: 'paper',
        venue: 'binance-spot',
        resolution: '1s',
        limits,
      });
      await client.waitForEvent(
        (e) => e.event === 'trader.update' && (e.payload as TraderUpdateEvent).snapshot.running,
      );

      // New limits: applied at once and kept in the configuration, nothing pending.
      const tighter = { ...limits, maxOrdersPerMinute: 30 };
      expect(
        (await result<TraderSnapshot>('trader.limits', { name: 'paper', limits: tighter })).limits,
      ).toEqual(tighter);
      expect((await state()).limits).toEqual(tighter);
      const info = await result<ServiceInfo>('services.get', { name: 'paper' });
      expect(info.definition.config).toMatchObject({ limits: tighter });
      expect(info.pendingChanges).toBe(false);

      // A person stops opening, and resumes it.
      expect(
        (await result<TraderSnapshot>('trader.opening', { name: 'paper', allowed: false })).blocks,
      ).toContain('person');
      expect(
        (await result<TraderSnapshot>('trader.opening', { name: 'paper', allowed: true })).blocks,
      ).not.toContain('person');

      // It trades: a position from the crossovers.
      await until('a position', async () => position(await state()) > 0, 90_000);

      // /metrics has it (from the snapshots it sends, at most 250 ms behind trader.state), promtool-clean.
      const held = /^vigil_trader_position\{service="paper",symbol="BTCUSDT"\} (?:[1-9]|0\.\d*[1-9])/m;
      const metrics = await until('the position in /metrics', async () => {
        const text = await core.ops.metrics();
        return held.test(text) ? text : null;
      });
      expect(metrics).toMatch(/^vigil_trader_equity\{service="paper"\} \d/m);
      expect(metrics).toContain('vigil_trader_opening_blocked{service="paper",reason="kill-switch"} 0');
      const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      if (check.error)
        throw new Error(`promtool is needed (apt-get install prometheus): ${check.error.message}`);
      expect(`${check.stdout}${check.stderr}`).toBe('');

      // The kill switch: flat, opening blocked until resumed.
      const killed = await result<TraderSnapshot>('trader.kill', { name: 'paper', confirm: true });
      expect(position(killed)).toBe(0);
      expect(killed.blocks).toContain('kill-switch');
      expect(killed.workingOrders).toEqual([]);
      const orders = await result<TraderPage<TraderOrder>>('trader.orders', { name: 'paper', limit: 10 });
      expect(orders.items[0]).toMatchObject({ reduceOnly: true, status: 'filled' });
      expect(
        (await result<TraderSnapshot>('trader.opening', { name: 'paper', allowed: true })).blocks,
      ).not.toContain('kill-switch');

      // The feed stops: the core says its collector is down, the data goes stale, an alert reaches alerts.list.
      await result('services.stop', { name: 'md-feed' });
      const stale = await until('stale', async () => {
        const s = await state();
        return s.blocks.includes('stale') ? s : null;
      });
      expect(stale.feedProblem).toBe('collector md-feed (binance-spot) is stopped');
      const alert = await until('the stale alert', async () => {
        const page = await result<Page<AlertRecord>>('alerts.list', {
          service: 'paper',
          kind: 'trader-stale',
        });
        return page.items[0];
      });
      expect(alert).toMatchObject({
        service: 'paper',
        kind: 'trader-stale',
        severity: 'warning',
        clearedAt: null,
      });
      expect(
        client.events.some(
          (e) => e.event === 'service.alert' && (e.payload as { kind: string }).kind === 'trader-stale',
        ),
      ).toBe(true);
      // Data again: unblocked, the alert cleared.
      await result('services.start', { name: 'md-feed' });
      await until('fresh again', async () => {
        const s = await state();
        return !s.blocks.includes('stale') && s.feedProblem === null;
      });
      await until('the alert cleared', async () => {
        const page = await result<Page<AlertRecord>>('alerts.list', {
          service: 'paper',
          kind: 'trader-stale',
        });
        return page.items[0]?.clearedAt !== null;
      });

      // Stop and flatten: it trades again, then leaves flat, and says so once stopped.
      await until('a position again', async () => position(await state()) > 0, 90_000);
      const stopped = await result<TraderSnapshot>('trader.stop', { name: 'paper', flatten: true });
      expect(stopped.running).toBe(false);
      expect(position(stopped)).toBe(0);
      expect((await result<ServiceInfo>('services.get', { name: 'paper' })).state).toBe('stopped');
      expect(await state()).toMatchObject({ running: false });
      await until('the stopped update', async () => updates().some((u) => !u.snapshot.running));
      const equity = await result<unknown[]>('trader.equity', { name: 'paper', maxPoints: 50 });
      expect(equity.length).toBeGreaterThan(0);
    },
  );
});
