import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBus, type EmbeddedSubscriberStats } from '../../src/services/bus/embedded';
import type { BusGap, BusMetrics } from '../../src/services/bus/types';
import { startBusChild, type BusChild } from '../helpers/bus-child';
import { tempDir } from '../helpers/temp-dir';
import { until } from '../helpers/process-fixtures';

type ChildState = {
  received: { count: number; bySubject: Record<string, number>; outOfOrder: number };
  gaps: BusGap[];
  warnings: unknown[];
  metrics: BusMetrics & { subscribers: EmbeddedSubscriberStats[] };
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dir(): string {
  const d = tempDir('vbus-');
  cleanups.push(() => d.remove());
  return d.path;
}

async function child(options: Parameters<typeof startBusChild>[0]): Promise<BusChild> {
  const c = await startBusChild(options);
  cleanups.push(() => c.kill());
  return c;
}

async function bus(options: Parameters<typeof EmbeddedBus.open>[0]): Promise<EmbeddedBus> {
  const b = await EmbeddedBus.open(options);
  cleanups.push(() => b.close());
  return b;
}

describe('EmbeddedBus across processes', () => {
  it('routes `*` and `>` subscriptions from a publisher process to a subscriber process', async () => {
    const path = join(dir(), 'pub.sock');
    const pub = await child({ listen: path, id: 'pub' });
    const sub = await child({ peers: [path], id: 'sub' });
    await sub.call('subscribe', { pattern: 'md.*.BTCUSDT.trade' });
    await sub.call('subscribe', { pattern: 'md.okx.>' });
    await sub.call('connected');
    expect(await pub.call('waitSubscribers', { count: 1 })).toBe(true);
    const subjects = {
      'md.binance-spot.BTCUSDT.trade': 1, // *
      'md.okx.BTCUSDT.trade': 1, // both patterns, delivered to each subscription
      'md.okx.ETHUSDT.book.l2': 1, // >
      'md.binance-spot.ETHUSDT.trade': 0,
      'md.okx': 0, // > needs at least one more token
      'md.binance-spot.BTCUSDT.trade.x': 0,
    };
    for (const subject of Object.keys(subjects)) await pub.call('publish', { subject, count: 100 });
    await sub.call('waitReceived', { count: 400 });
    await new Promise((r) => setTimeout(r, 200)); // would-be strays get a chance to arrive
    const state = await sub.call<ChildState>('state');
    expect(state.received.bySubject).toEqual({
      'md.binance-spot.BTCUSDT.trade': 100,
      'md.okx.BTCUSDT.trade': 200,
      'md.okx.ETHUSDT.book.l2': 100,
    });
    expect(state.received.outOfOrder).toBe(0);
    expect(state.gaps).toEqual([]);
  });

  it('a subject nobody wants never leaves the publisher', async () => {
    const path = join(dir(), 'pub.sock');
    const pub = await bus({ listen: path });
    const sub = await child({ peers: [path], id: 'narrow' });
    await sub.call('subscribe', { pattern: 'md.okx.>' });
    await until(
      () => pub.metrics().subscribers.some((s) => s.id === 'narrow' && s.patterns.length === 1),
      'sub',
    );
    for (let i = 0; i < 10_000; i++) pub.publish('md.binance-spot.BTCUSDT.trade', { i });
    await pub.flush();
    const narrow = () => pub.metrics().subscribers.find((s) => s.id === 'narrow')!;
    expect(narrow()).toMatchObject({ bytesSent: 0, framesSent: 0, delivered: 0, dropped: 0, queueDepth: 0 });
    expect(pub.metrics().published).toBe(10_000);
    // The counter does count: one wanted message is one frame.
    pub.publish('md.okx.BTCUSDT.trade', { i: 0 });
    await pub.flush();
    expect(narrow()).toMatchObject({ framesSent: 1, delivered: 1 });
    expect(narrow().bytesSent).toBeGreaterThan(0);
    await sub.call('waitReceived', { count: 1 });
    expect((await sub.call<ChildState>('state')).received.count).toBe(1);
  });

  it('a stalled subscriber gets a warning, drops and a gap; the publisher and the others carry on', async () => {
    const d = dir();
    const path = join(d, 'pub.sock');
    const release = join(d, 'release');
    const capacity = 4_000;
    const total = 20_000;
    const pub = await child({ listen: path, id: 'pub', queueCapacity: capacity });
    const slow = await child({ peers: [path], id: 'slow' });
    const fast = await child({ peers: [path], id: 'fast' });
    for (const s of [slow, fast]) await s.call('subscribe', { pattern: 'md.>' });
    expect(await pub.call('waitSubscribers', { count: 2 })).toBe(true);

    await slow.call('blockUntilFile', { path: release });
    const timing = await pub.call<{ maxCallMs: number; totalMs: number }>('publish', {
      subject: 'md.okx.BTCUSDT.trade',
      count: total,
      // Paced so the healthy subscriber keeps up even on a loaded machine.
      perTick: 50,
      tickMs: 2,
      padBytes: 200,
      flush: false,
    });
    await fast.call('waitReceived', { count: total });
    const during = await pub.call<ChildState>('state');
    writeFileSync(release, '');

    const stats = (id: string) => during.metrics.subscribers.find((s) => s.id === id)!;
    expect(stats('fast')).toMatchObject({ dropped: 0, delivered: total, warnings: 0 });
    expect(stats('slow').warnings).toBe(1);
    expect(stats('slow').dropped).toBeGreaterThan(0);
    expect(during.warnings).toEqual([{ subscriber: 'slow', depth: capacity * 0.7, capacity }]);
    // publish() never waited for the stalled socket.
    expect(timing.maxCallMs).toBeLessThan(50);

    const dropped = stats('slow').dropped;
    await slow.call('waitReceived', { count: total - dropped });
    let slowState = await slow.call<ChildState>('state');
    for (let i = 0; i < 100 && slowState.gaps.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      slowState = await slow.call<ChildState>('state');
    }
    expect(slowState.gaps).toEqual([expect.objectContaining({ reason: 'dropped', dropped, source: path })]);
    expect(slowState.received.count).toBe(total - dropped);
    expect(slowState.received.outOfOrder).toBe(0);
    const fastState = await fast.call<ChildState>('state');
    expect(fastState.received.count).toBe(total);
    expect(fastState.gaps).toEqual([]);
  });

  it('reconnects by itself to a publisher killed and restarted on the same path, with a gap', async () => {
    const path = join(dir(), 'pub.sock');
    let pub = await child({ listen: path, id: 'pub-1' });
    const sub = await bus({ peers: [path], id: 'sub' });
    const got: number[] = [];
    const gaps: BusGap[] = [];
    sub.subscribe('md.okx.>', (m) => got.push((m.data as { seq: number }).seq), {
      onGap: (g) => gaps.push(g),
    });
    await sub.whenConnected();
    expect(await pub.call('waitSubscribers', { count: 1 })).toBe(true);
    await pub.call('publish', { subject: 'md.okx.BTC.trade', count: 10 });
    await until(() => got.length === 10, 'first ten');

    const killedAt = Date.now();
    await pub.kill();
    pub = await child({ listen: path, id: 'pub-2' });
    expect(await pub.call('waitSubscribers', { count: 1 })).toBe(true);
    await until(() => gaps.length === 1, 'disconnected gap');
    expect(gaps[0]).toMatchObject({ source: path, reason: 'disconnected' });
    expect(gaps[0]!.from).toBeGreaterThanOrEqual(killedAt - 5);
    expect(gaps[0]!.to).toBeGreaterThanOrEqual(gaps[0]!.from);
    await pub.call('publish', { subject: 'md.okx.BTC.trade', count: 5 });
    await until(() => got.length === 15, 'five more after restart');
    expect(got.slice(10)).toEqual([0, 1, 2, 3, 4]);
  });
});
