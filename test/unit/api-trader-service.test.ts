/**
 * The core's trader service (src/main/api/trader-service.ts) against a supervisor stand-in: what the
 * program reports becomes trader.update events and alerts, collector health becomes trader.feed
 * requests, and the commands route to the running program or refuse.
 * (test/integration/api-trader*.test.ts run the real thing over the WebSocket.)
 */
import { describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import { configSnapshot, TraderHistory } from '../../src/main/api/trader-history';
import { TraderService, type TraderServiceDeps } from '../../src/main/api/trader-service';
import { ChildRequestError } from '../../src/main/supervisor/child-requests';
import type { ChildEvent } from '../../src/shared/child-protocol';
import type { EventName } from '../../src/shared/api';
import { ApiError } from '../../src/shared/errors';
import type { ServiceInfo, ServiceTransitionEvent } from '../../src/shared/services';
import { DEFAULT_RISK_LIMITS, traderConfigSchema, type TraderSnapshot } from '../../src/shared/trader-api';
import { serviceInfo } from '../helpers/service-info';
import { tempDir } from '../helpers/temp-dir';

const trader = (state: ServiceInfo['state'], venue = 'binance-spot') =>
  serviceInfo({ name: 'paper', kind: 'trader', state, config: { venue, symbols: ['BTCUSDT'] } });
const collector = (name: string, venue: string, state: ServiceInfo['state'], health: ServiceInfo['health']) =>
  serviceInfo({
    name,
    kind: 'collector',
    program: { type: 'builtin', name: 'collector' },
    config: { venue },
    state,
    health,
    healthReason: health === 'degraded' ? 'BTCUSDT.top stale for 12 s' : null,
  });

const snapshot = (extra: Partial<TraderSnapshot> = {}): TraderSnapshot => ({
  ...configSnapshot('paper', traderConfigSchema.parse({ symbols: ['BTCUSDT'] }), 1000),
  running: true,
  ...extra,
});

function setup(services: ServiceInfo[]) {
  const dir = tempDir();
  const events = new EventHub();
  const emitted: { event: EventName; payload: unknown }[] = [];
  events.listen((event, payload) => emitted.push({ event, payload }));
  let childListener: ((service: string, event: ChildEvent) => void) | null = null;
  const find = (name: string) => {
    const s = services.find((x) => x.name === name);
    if (!s) throw new ApiError('not_found', `no service named "${name}"`, 'name');
    return s;
  };
  const sup = {
    list: () => services,
    get: find,
    request: vi.fn(async (_name: string, method: string, params: unknown): Promise<unknown> => {
      void params;
      return snapshot({ counters: { ticks: method.length, decisions: 0, orders: 0, fills: 0, rejected: 0 } });
    }),
    onChildEvent: (l: (service: string, event: ChildEvent) => void) => {
      childListener = l;
      return () => undefined;
    },
    update: vi.fn((name: string, def: { config?: unknown }, opts?: { appliedLive?: boolean }) => {
      const s = find(name);
      s.definition = { ...s.definition, config: def.config as Record<string, unknown> };
      s.pendingChanges = !opts?.appliedLive && s.state !== 'stopped';
      return s;
    }),
    stop: vi.fn(async (name: string) => {
      const s = find(name);
      s.state = 'stopped';
      return s;
    }),
    raiseAlert: vi.fn(() => 1),
    clearAlert: vi.fn(),
  };
  const onError = vi.fn();
  const service = new TraderService({
    dataDir: dir.path,
    supervisor: sup as unknown as TraderServiceDeps['supervisor'],
    events,
    history: new TraderHistory(dir.path),
    now: () => 5000,
    onError,
  });
  const child = (name: string, data: unknown) =>
    childListener!('paper', { type: 'event', name, data } as ChildEvent);
  const state = (info: ServiceInfo) => events.emit('service.state', info);
  const transition = (to: ServiceInfo['state']) => {
    const s = find('paper');
    const from = s.state;
    s.state = to;
    const t: ServiceTransitionEvent = {
      id: 1,
      service: 'paper',
      from,
      to,
      health: null,
      reason: 'test',
      at: 5000,
      exit: null,
      restarts: 0,
      nextRestartAt: null,
    };
    events.emit('service.transition', t);
    events.emit('service.state', s);
  };
  const feeds = () =>
    sup.request.mock.calls
      .filter((c) => c[1] === 'trader.feed')
      .map((c) => (c[2] as { problem: unknown }).problem);
  return { service, sup, emitted, child, state, transition, feeds, onError, dir };
}

describe('trader service', () => {
  it('passes the program’s snapshots on as trader.update, and the stored state once it stops', async () => {
    const t = setup([trader('running')]);
    t.child('trader.snapshot', snapshot({ blocks: ['warming'] }));
    t.child('trader.snapshot', { not: 'a snapshot' });
    const updates = () => t.emitted.filter((e) => e.event === 'trader.update').map((e) => e.payload);
    expect(updates()).toEqual([{ name: 'paper', snapshot: snapshot({ blocks: ['warming'] }) }]);
    expect(t.service.live()).toEqual([snapshot({ blocks: ['warming'] })]);
    t.transition('stopping');
    expect(t.service.live()).toEqual([]);
    t.transition('stopped');
    expect(updates().at(-1)).toMatchObject({ name: 'paper', snapshot: { running: false, at: 5000 } });
    // Not trading any more: its stale-data alert is over.
    expect(t.sup.clearAlert).toHaveBeenCalledWith('paper', 'trader-stale', 'paper is stopped');
    t.dir.remove();
  });

  it('turns the program’s alerts into alerts of kind trader-<kind>, and clears them when it says so', () => {
    const t = setup([trader('running')]);
    t.child('trader.alert', { kind: 'stale', severity: 'warning', message: 'BTCUSDT data stale for 7 s' });
    expect(t.sup.raiseAlert).toHaveBeenCalledWith({
      service: 'paper',
      kind: 'trader-stale',
      severity: 'warning',
      message: 'BTCUSDT data stale for 7 s',
      at: 5000,
    });
    t.child('trader.alert', { kind: 'stale', severity: 'warning', message: 'fresh again', cleared: true });
    expect(t.sup.clearAlert).toHaveBeenCalledWith('paper', 'trader-stale', 'fresh again');
    t.child('trader.alert', { kind: 'meteor', severity: 'warning', message: 'x' });
    expect(t.sup.raiseAlert).toHaveBeenCalledTimes(1);
    expect(t.onError).toHaveBeenCalledOnce();
    t.dir.remove();
  });

  it('tells a running trader when a collector of its venue is not healthy, and when it is again', () => {
    const spot = collector('binance-spot', 'binance-spot', 'running', 'healthy');
    const okx = collector('okx-spot', 'okx-spot', 'stopped', null);
    const t = setup([trader('stopped'), spot, okx]);
    // Not running: nothing told.
    t.state(spot);
    expect(t.feeds()).toEqual([]);
    t.transition('starting');
    t.transition('running');
    // All well at its start: nothing to tell (a run starts with no problem).
    expect(t.feeds()).toEqual([]);
    spot.health = 'degraded';
    spot.healthReason = 'BTCUSDT.top stale for 12 s';
    t.state(spot);
    expect(t.feeds()).toEqual([
      'collector binance-spot (binance-spot) is degraded: BTCUSDT.top stale for 12 s',
    ]);
    t.state(okx); // another venue: no news
    t.state(spot); // the same problem: not told twice
    expect(t.feeds()).toHaveLength(1);
    spot.state = 'backoff';
    spot.health = null;
    t.state(spot);
    spot.state = 'running';
    spot.health = 'healthy';
    t.state(spot);
    expect(t.feeds().slice(1)).toEqual(['collector binance-spot (binance-spot) is backoff', null]);
    // A new run while the collector is down is told at once.
    spot.state = 'stopped';
    t.transition('stopped');
    t.state(spot);
    t.transition('running');
    expect(t.feeds().at(-1)).toBe('collector binance-spot (binance-spot) is stopped');
    t.dir.remove();
  });

  it('applies limits live and keeps them in the configuration, with nothing pending', async () => {
    const t = setup([trader('running')]);
    const limits = { ...DEFAULT_RISK_LIMITS, maxOrderNotional: 100 };
    await t.service.limits('paper', limits);
    expect(t.sup.request).toHaveBeenCalledWith('paper', 'trader.setLimits', { limits }, 15_000);
    expect(t.sup.update.mock.calls[0]![2]).toEqual({ appliedLive: true });
    expect(t.sup.get('paper').definition.config).toMatchObject({ limits, venue: 'binance-spot' });
    // The program refuses, naming a field: the configuration stays as it was.
    t.sup.request.mockRejectedValueOnce(
      new ChildRequestError('must be more than 0', 'invalid', 'limits.maxDailyLoss'),
    );
    await expect(t.service.limits('paper', { ...limits, maxDailyLoss: 1 })).rejects.toMatchObject({
      code: 'invalid_input',
      field: 'limits.maxDailyLoss',
    });
    expect(t.sup.update).toHaveBeenCalledOnce();
    t.dir.remove();
  });

  it('stops with flatten only once flat; a failed flatten leaves it running', async () => {
    const t = setup([trader('running')]);
    t.sup.request.mockRejectedValueOnce(new ChildRequestError('no quote for BTCUSDT', undefined, undefined));
    await expect(t.service.stop('paper', true)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining(
        'paper could not flatten (no quote for BTCUSDT): it keeps running',
      ) as string,
    });
    expect(t.sup.stop).not.toHaveBeenCalled();
    const stopped = await t.service.stop('paper', true);
    expect(t.sup.request.mock.calls.map((c) => c[1])).toEqual(['trader.flatten', 'trader.flatten']);
    expect(t.sup.stop).toHaveBeenCalledWith('paper');
    expect(stopped.running).toBe(false);
    t.dir.remove();
  });

  it('asks the running program for its state, and reads the database when it has gone meanwhile', async () => {
    const t = setup([trader('running')]);
    expect((await t.service.state('paper')).running).toBe(true);
    t.sup.request.mockRejectedValueOnce(new ApiError('unavailable', 'paper went stopped before answering'));
    expect(await t.service.state('paper')).toMatchObject({ running: false, service: 'paper' });
    expect((await t.service.kill('paper')).running).toBe(true);
    expect(t.sup.request.mock.calls.at(-1)!.slice(0, 3)).toEqual(['paper', 'trader.kill', {}]);
    await t.service.opening('paper', false);
    expect(t.sup.request.mock.calls.at(-1)!.slice(0, 3)).toEqual([
      'paper',
      'trader.opening',
      { allowed: false },
    ]);
    t.dir.remove();
  });
});
