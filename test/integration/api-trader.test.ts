/**
 * The trader's API over the headless WebSocket, against traders that are not running: a start or
 * restart without the person's confirmation of the mode is refused (and starts nothing), a
 * configuration import never starts a trader, and the trader.* commands answer from trader.db
 * (a stopped trader), from the configuration (one never started), or refuse what needs it running.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { startHeadlessServer, type HeadlessServer } from '../../src/main/server/headless-server';
import { traderDbPath } from '../../src/services/trader/trader-db';
import { resolveDefinition, type ServiceDefinitionInput } from '../../src/shared/service-definition';
import type { ServiceInfo } from '../../src/shared/services';
import type { TraderSnapshot } from '../../src/shared/trader-api';
import { connect, type TestClient } from '../helpers/ws-client';
import { tempDir } from '../helpers/temp-dir';
import { fill, order, TraderDbFixture } from '../helpers/trader-db-fixture';

const token = 'test-token-trader-0123456789';
const out = resolve(import.meta.dirname, '../../out');
const DAY = 86_400_000;
const limits = {
  maxPositionNotional: 3000,
  maxOrderNotional: 1000,
  maxOrdersPerMinute: 10,
  maxDailyLoss: 200,
};
const traderConfig = { symbols: ['BTCUSDT', 'ETHUSDT'], equity: 10_000, limits };

const inputs: ServiceDefinitionInput[] = [
  { name: 'paper', kind: 'trader', program: { type: 'builtin', name: 'trader' }, config: traderConfig },
  { name: 'fresh', kind: 'trader', program: { type: 'builtin', name: 'trader' }, config: { mode: 'paper' } },
  {
    name: 'homemade',
    kind: 'trader',
    program: { type: 'command', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
  },
  {
    name: 'sleeper',
    kind: 'custom',
    program: { type: 'command', command: 'sleep', args: ['300'] },
    readiness: { type: 'uptime', uptimeMs: 200 },
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
  // What a stopped `paper` left: an account, a position, orders, fills, equity and its last snapshot.
  const now = Date.now();
  const today = Math.floor(now / DAY) * DAY;
  const db = new TraderDbFixture(traderDbPath(dir.path, 'paper'))
    .account({
      initialEquity: 10_000,
      cash: 9_500,
      realizedPnl: 4,
      fees: 1,
      day: today,
      dayStartEquity: 10_000,
      openingStoppedBy: 'kill-switch',
      updatedAt: now - 5000,
    })
    .position('BTCUSDT', 5, 100, 4, 1)
    .equity(Array.from({ length: 100 }, (_, i) => ({ t: now - 100_000 + i * 1000, equity: 10_000 + i })));
  for (let n = 1; n <= 5; n++) db.order(order(n)).fill(fill(n));
  db.close();

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
});

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

async function refusal(command: string, input: unknown) {
  const reply = await client.call(command, input);
  if (reply.ok) throw new Error(`${command} was not refused`);
  return reply.error;
}

describe('trader API', () => {
  it('refuses to start or restart a trader without the person’s confirmation of its mode', async () => {
    expect(await refusal('services.start', { name: 'paper' })).toEqual({
      code: 'confirmation-required',
      field: 'confirm',
      message: 'paper trades on paper: to start it, a person confirms that with confirm: { mode: "paper" }',
    });
    expect(await refusal('services.start', { name: 'paper', confirm: { mode: 'live' } })).toMatchObject({
      code: 'confirmation-required',
      message: expect.stringContaining('not "live"') as string,
    });
    expect(await refusal('services.restart', { name: 'fresh' })).toMatchObject({
      code: 'confirmation-required',
      field: 'confirm',
    });
    // A program Vigil cannot read the mode of may trade live: that is what is confirmed.
    expect(await refusal('services.start', { name: 'homemade', confirm: { mode: 'paper' } })).toMatchObject({
      code: 'confirmation-required',
      message: expect.stringContaining('confirm: { mode: "live" }') as string,
    });
    expect(await refusal('services.start', { name: 'paper', confirm: { mode: 'demo' } })).toMatchObject({
      code: 'invalid_input',
      field: 'confirm.mode',
    });
    for (const name of ['paper', 'fresh', 'homemade']) {
      expect((await result<ServiceInfo>('services.get', { name })).state).toBe('stopped');
    }
    expect((await result<{ items: unknown[] }>('events.list', {})).items).toEqual([]);
    // Confirmed, it starts (a command whose mode is unknown: confirmed as live).
    expect(
      (await result<ServiceInfo>('services.start', { name: 'homemade', confirm: { mode: 'live' } })).state,
    ).toBe('starting');
    await result('services.stop', { name: 'homemade' });
    // Anything else starts as before; a confirmation given to it means nothing.
    expect(
      (await result<ServiceInfo>('services.start', { name: 'sleeper', confirm: { mode: 'paper' } })).state,
    ).toBe('starting');
    await result('services.stop', { name: 'sleeper' });
  });

  it('never starts a trader from a configuration import', async () => {
    const exported = await result<{ text: string }>('config.export', { format: 'json' });
    const doc = JSON.parse(exported.text) as { services: Record<string, unknown>[] };
    const imported = {
      ...doc,
      services: [
        ...doc.services,
        { name: 'imported', kind: 'trader', program: { type: 'builtin', name: 'trader' } },
      ],
    };
    const withAutostart = {
      ...doc,
      services: [...doc.services, { ...imported.services.at(-1), autostart: true }],
    };
    expect(
      await refusal('config.import', { text: JSON.stringify(withAutostart), dryRun: false }),
    ).toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('a trader never autostarts') as string,
    });
    const applied = await result<{ applied: boolean }>('config.import', {
      text: JSON.stringify(imported),
      dryRun: false,
    });
    expect(applied.applied).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect((await result<ServiceInfo>('services.get', { name: 'imported' })).state).toBe('stopped');
    expect((await result<ServiceInfo>('services.get', { name: 'paper' })).state).toBe('stopped');
  });

  it('shows a stopped trader from its database and a never-started one from its configuration', async () => {
    const paper = await result<TraderSnapshot>('trader.state', { name: 'paper' });
    expect(paper).toMatchObject({
      service: 'paper',
      mode: 'paper',
      running: false,
      blocks: ['kill-switch'],
      limits,
      account: { initialEquity: 10_000, cash: 9_500, realizedPnl: 4, fees: 1, equity: 10_003 },
      positions: [{ symbol: 'BTCUSDT', qty: 5, avgPrice: 100, mark: null }],
    });
    const fresh = await result<TraderSnapshot>('trader.state', { name: 'fresh' });
    expect(fresh).toMatchObject({
      service: 'fresh',
      running: false,
      account: { equity: 10_000, cash: 10_000 },
      positions: [],
      feeds: [{ symbol: 'BTCUSDT', bid: null }],
    });
    expect(await refusal('trader.state', { name: 'homemade' })).toMatchObject({
      code: 'invalid_input',
      field: 'name',
      message: expect.stringContaining('not the built-in trader') as string,
    });
    expect(await refusal('trader.state', { name: 'sleeper' })).toMatchObject({
      code: 'invalid_input',
      message: 'name: sleeper is a custom service, not a trader',
    });
    expect(await refusal('trader.state', { name: 'nobody' })).toMatchObject({
      code: 'not_found',
      field: 'name',
    });
  });

  it('pages orders and fills, and downsamples equity, from the database', async () => {
    const orders = await result<{ items: { seq: number }[]; next: number | null }>('trader.orders', {
      name: 'paper',
      limit: 2,
    });
    expect(orders.items.map((o) => o.seq)).toEqual([5, 4]);
    expect(orders.next).toBe(4);
    const older = await result<{ items: { seq: number }[] }>('trader.orders', { name: 'paper', before: 4 });
    expect(older.items.map((o) => o.seq)).toEqual([3, 2, 1]);
    expect(
      (await result<{ items: unknown[] }>('trader.orders', { name: 'paper', status: 'working' })).items,
    ).toEqual([]);
    const fills = await result<{ items: { id: string }[] }>('trader.fills', { name: 'paper', limit: 1 });
    expect(fills.items.map((f) => f.id)).toEqual(['t-5:1']);
    const equity = await result<{ equity: number }[]>('trader.equity', { name: 'paper', maxPoints: 10 });
    expect(equity).toHaveLength(10);
    expect(equity.at(-1)!.equity).toBe(10_099);
    expect(await result('trader.equity', { name: 'fresh' })).toEqual([]);
    expect(await refusal('trader.equity', { name: 'paper', from: 10, to: 5 })).toMatchObject({ field: 'to' });
    expect(await refusal('trader.orders', { name: 'paper', limit: 0 })).toMatchObject({ field: 'limit' });
  });

  it('keeps new risk limits in the configuration of a stopped trader, with field errors for bad ones', async () => {
    const next = { ...limits, maxOrderNotional: 750 };
    const snapshot = await result<TraderSnapshot>('trader.limits', { name: 'paper', limits: next });
    expect(snapshot).toMatchObject({ running: false, limits: next });
    const info = await result<ServiceInfo>('services.get', { name: 'paper' });
    expect(info.definition.config).toEqual({ ...traderConfig, limits: next });
    expect(info.pendingChanges).toBe(false);
    expect(core.store.config.listServices().find((d) => d.name === 'paper')!.config).toEqual(
      info.definition.config,
    );
    expect(
      await refusal('trader.limits', { name: 'paper', limits: { ...limits, maxOrderNotional: -1 } }),
    ).toMatchObject({ code: 'invalid_input', field: 'limits.maxOrderNotional' });
    expect(await refusal('trader.limits', { name: 'paper', limits: { ...limits, extra: 1 } })).toMatchObject({
      code: 'invalid_input',
    });
  });

  it('refuses what only a running trader can do, and stops a stopped one as it is', async () => {
    for (const [command, input] of [
      ['trader.opening', { name: 'paper', allowed: false }],
      ['trader.kill', { name: 'paper', confirm: true }],
      ['trader.stop', { name: 'paper', flatten: true }],
    ] as const) {
      expect(await refusal(command, input)).toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(/^paper is stopped: only a running trader can/) as string,
      });
    }
    expect(await refusal('trader.kill', { name: 'paper' })).toMatchObject({
      code: 'invalid_input',
      field: 'confirm',
    });
    const stopped = await result<TraderSnapshot>('trader.stop', { name: 'paper', flatten: false });
    expect(stopped).toMatchObject({ running: false, positions: [{ symbol: 'BTCUSDT', qty: 5 }] });
  });
});
