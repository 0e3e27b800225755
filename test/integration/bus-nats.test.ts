/**
 * The NATS backend of the bus against a real nats-server on loopback: wildcard routing across
 * connections and across a real child process, refused subjects and sizes, a slow consumer held to
 * the 70 %/95 % rule without hurting its neighbours, and a server restart the client rides out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, type NatsBusOptions, type NatsBusWarning } from '../../src/services/bus/nats';
import { BusError, MAX_MESSAGE_BYTES, type BusGap, type BusMessage } from '../../src/services/bus/types';
import { NatsServer } from '../helpers/nats-server';
import { until } from '../helpers/process-fixtures';

const publisherChild = resolve(import.meta.dirname, '../fixtures/bus/nats-publisher.ts');

let server: NatsServer;
const extraServers: NatsServer[] = [];
const buses: NatsBus[] = [];
const children: ChildProcess[] = [];
/** Unblocks the slow consumer's handler even when its test fails half-way. */
let release = (): void => {};

beforeAll(async () => {
  server = await NatsServer.start();
});

afterEach(async () => {
  release();
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
  await Promise.all(extraServers.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await server?.stop();
});

async function open(options: Partial<NatsBusOptions> = {}, on: NatsServer = server): Promise<NatsBus> {
  const bus = await NatsBus.connect({ servers: on.url, ...options });
  buses.push(bus);
  return bus;
}

function collect(): { messages: BusMessage[]; handler: (m: BusMessage) => void } {
  const messages: BusMessage[] = [];
  return { messages, handler: (m) => messages.push(m) };
}

function expectBusError(action: () => void, code: BusError['code']): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BusError);
    expect((error as BusError).code).toBe(code);
    return;
  }
  throw new Error(`expected BusError(${code})`);
}

describe('NATS bus', () => {
  it('routes * and > patterns between two connections, with the publisher time', async () => {
    const publisher = await open({ name: 'collector' });
    const subscriber = await open({ name: 'strategy' });
    const btcTrades = collect();
    const binance = collect();
    const everything = collect();
    subscriber.subscribe('md.*.BTCUSDT.trade', btcTrades.handler);
    subscriber.subscribe('md.binance-spot.>', binance.handler);
    subscriber.subscribe('md.>', everything.handler);
    await subscriber.flush(); // the server knows the interest before anything is published

    const before = Date.now();
    publisher.publish('md.binance-spot.BTCUSDT.trade', { price: 1 });
    publisher.publish('md.okx-spot.BTCUSDT.trade', { price: 2 });
    publisher.publish('md.binance-spot.ETHUSDT.book', { bids: [[1, 2]] });
    publisher.publish('md.okx-spot.ETHUSDT.trade', { price: 3 });
    publisher.publish('other.binance-spot.BTCUSDT.trade', { price: 4 });
    await publisher.flush();

    await until(() => everything.messages.length === 4 && btcTrades.messages.length === 2, 'deliveries');
    expect(btcTrades.messages.map((m) => m.subject)).toEqual([
      'md.binance-spot.BTCUSDT.trade',
      'md.okx-spot.BTCUSDT.trade',
    ]);
    expect(binance.messages.map((m) => m.data)).toEqual([{ price: 1 }, { bids: [[1, 2]] }]);
    expect(everything.messages.map((m) => m.subject)).not.toContain('other.binance-spot.BTCUSDT.trade');
    for (const m of everything.messages) {
      expect(m.at).toBeGreaterThanOrEqual(before);
      expect(m.at).toBeLessThanOrEqual(Date.now());
    }
    expect(publisher.metrics().published).toBe(5);
    expect(subscriber.metrics()).toMatchObject({ delivered: 8, dropped: 0, rejected: 0 });
    expect(subscriber.metrics().subscribers.map((s) => s.patterns)).toEqual([
      ['md.*.BTCUSDT.trade'],
      ['md.binance-spot.>'],
      ['md.>'],
    ]);
  });

  it('delivers messages published by another process', async () => {
    const subscriber = await open();
    const sym1 = collect();
    subscriber.subscribe('md.child-venue.SYM1.*', sym1.handler);
    const all = collect();
    subscriber.subscribe('md.child-venue.>', all.handler);
    await subscriber.flush();

    const child = spawn(process.execPath, ['--import', 'tsx', publisherChild, server.url, '60'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exitCode = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    expect(exitCode, output).toBe(0);
    expect(output).toContain('published 60');

    await until(() => all.messages.length === 60, 'the child’s 60 messages');
    expect(all.messages.map((m) => (m.data as { seq: number }).seq)).toEqual([...Array(60).keys()]);
    expect(new Set(all.messages.map((m) => (m.data as { pid: number }).pid))).toEqual(new Set([child.pid]));
    expect(sym1.messages).toHaveLength(20);
    expect(sym1.messages.every((m) => m.subject === 'md.child-venue.SYM1.trade')).toBe(true);
  });

  it('refuses invalid subjects and oversized messages, counts them, and keeps serving', async () => {
    const bus = await open();
    const got = collect();
    bus.subscribe('md.ok.>', got.handler);
    await bus.flush();

    for (const subject of [
      '',
      'md..trade',
      'md.*.trade',
      'md.>',
      'md.a b.trade',
      'md.x.',
      '.md',
      'md.é.trade',
    ]) {
      expectBusError(() => bus.publish(subject, 1), 'invalid_subject');
    }
    for (const pattern of ['md.>.trade', 'md..x', 'md.a*.trade', '']) {
      expectBusError(() => bus.subscribe(pattern, () => {}), 'invalid_subject');
    }
    expectBusError(() => bus.publish('md.ok.big', 'x'.repeat(MAX_MESSAGE_BYTES)), 'too_large');
    expect(bus.metrics()).toMatchObject({ published: 0, rejected: 13 });
    expect(bus.metrics().subscribers).toHaveLength(1);

    bus.publish('md.ok.small', { fine: true });
    bus.publish('md.ok.large', 'y'.repeat(MAX_MESSAGE_BYTES / 2));
    await bus.flush();
    await until(() => got.messages.length === 2, 'messages after the refusals');
    expect(got.messages[0]).toMatchObject({ subject: 'md.ok.small', data: { fine: true } });
    expect((got.messages[1]?.data as string).length).toBe(MAX_MESSAGE_BYTES / 2);
    expect(bus.metrics()).toMatchObject({ published: 2, rejected: 13, delivered: 2 });
  });

  it('holds a blocked subscriber to 70 %/95 %, reports the drop as a gap, and leaves others alone', async () => {
    const publisher = await open();
    const warnings: NatsBusWarning[] = [];
    const subscriber = await open({ queueCapacity: 100, onWarning: (w) => warnings.push(w) });

    const gate = new Promise<void>((r) => (release = r));
    const slowEvents: (BusMessage | BusGap)[] = [];
    subscriber.subscribe(
      'md.fast-venue.*.trade',
      async (m) => {
        slowEvents.push(m);
        await gate; // blocked until the test lets go
      },
      { onGap: (g) => slowEvents.push(g) },
    );
    const fast = collect();
    const fastGaps: BusGap[] = [];
    subscriber.subscribe('md.fast-venue.>', fast.handler, { onGap: (g) => fastGaps.push(g) });
    await subscriber.flush();

    // Bursts smaller than the fast subscriber's room: it keeps up while its neighbour is stuck.
    for (let burst = 0; burst < 12; burst++) {
      for (let i = burst * 25; i < (burst + 1) * 25; i++)
        publisher.publish('md.fast-venue.BTCUSDT.trade', { seq: i });
      await publisher.flush();
      await until(
        () => fast.messages.length === (burst + 1) * 25,
        `the fast subscriber to get burst ${burst}`,
      );
    }
    const slowStats = (): NonNullable<ReturnType<NatsBus['metrics']>['subscribers'][number]> =>
      subscriber.metrics().subscribers[0]!;
    await until(
      () => slowStats().delivered + slowStats().queueDepth + slowStats().dropped === 300,
      'all 300 accounted',
    );
    // One in the blocked handler, the queue held at 95 % of 100, the rest dropped and counted.
    expect(slowStats()).toMatchObject({
      delivered: 1,
      queueDepth: 95,
      capacity: 100,
      dropped: 204,
      warnings: 1,
    });
    expect(warnings).toEqual([
      { subscriptionId: slowStats().id, pattern: 'md.fast-venue.*.trade', queueDepth: 70, capacity: 100 },
    ]);
    expect(subscriber.metrics().subscribers[1]).toMatchObject({
      delivered: 300,
      dropped: 0,
      queueDepth: 0,
      warnings: 0,
    });
    expect(subscriber.metrics().dropped).toBe(204);
    expect(fastGaps).toEqual([]);

    release();
    await until(() => slowEvents.length === 97, 'the queued messages and the drop gap');
    publisher.publish('md.fast-venue.BTCUSDT.trade', { seq: 300 });
    await publisher.flush();
    await until(() => slowEvents.length === 98, 'a message after the gap');

    const seqs = slowEvents.slice(0, 96).map((e) => ((e as BusMessage).data as { seq: number }).seq);
    expect(seqs).toEqual([...Array(96).keys()]); // the oldest are kept, the newest dropped
    const gap = slowEvents[96] as BusGap;
    expect(gap).toMatchObject({ reason: 'dropped', dropped: 204, source: server.url.replace('nats://', '') });
    expect(gap.from).toBeLessThanOrEqual(gap.to);
    expect(slowEvents[97]).toMatchObject({ data: { seq: 300 } });
    expect(slowStats()).toMatchObject({ delivered: 97, dropped: 204, queueDepth: 0, warnings: 1 });
  });

  it('keeps reading the socket while a synchronous handler hogs each turn', async () => {
    const publisher = await open();
    const subscriber = await open({ queueCapacity: 100, onWarning: () => {} });
    const slowGaps: BusGap[] = [];
    let slowDelivered = 0;
    subscriber.subscribe(
      'md.hog.*.trade',
      () => {
        slowDelivered += 1;
        const until = performance.now() + 10; // a handler doing 10 ms of CPU work per message
        while (performance.now() < until);
      },
      { onGap: (g) => slowGaps.push(g) },
    );
    const fast = collect();
    subscriber.subscribe('md.hog.>', fast.handler);
    await subscriber.flush();

    for (let burst = 0; burst < 12; burst++) {
      for (let i = burst * 25; i < (burst + 1) * 25; i++)
        publisher.publish('md.hog.BTCUSDT.trade', { seq: i });
      await publisher.flush();
      await until(
        () => fast.messages.length === (burst + 1) * 25,
        `the fast subscriber to get burst ${burst}`,
      );
    }
    const droppedTotal = (): number => slowGaps.reduce((sum, g) => sum + (g.dropped ?? 0), 0);
    await until(() => slowDelivered + droppedTotal() === 300, 'the hog to catch up and report what it lost');
    const [slow, other] = subscriber.metrics().subscribers;
    expect(slow).toMatchObject({ delivered: slowDelivered, dropped: droppedTotal(), warnings: 1 });
    expect(slow!.dropped).toBeGreaterThan(0);
    expect(slowGaps.every((g) => g.reason === 'dropped')).toBe(true);
    expect(other).toMatchObject({ delivered: 300, dropped: 0 });
  });

  it('keeps the connection when a handler throws', async () => {
    const errors: unknown[] = [];
    const bus = await open({ onHandlerError: (error) => errors.push(error) });
    const got = collect();
    bus.subscribe('md.t.*.trade', () => {
      throw new Error('strategy bug');
    });
    bus.subscribe('md.t.>', got.handler);
    await bus.flush();
    for (let i = 0; i < 5; i++) bus.publish('md.t.S.trade', i);
    await bus.flush();
    await until(
      () => got.messages.length === 5 && errors.length === 5,
      'deliveries despite the throwing handler',
    );
    expect((errors[0] as Error).message).toBe('strategy bug');
  });

  it('closes within its bound while the server is gone, and refuses use afterwards', async () => {
    const own = await NatsServer.start();
    extraServers.push(own);
    const bus = await NatsBus.connect({ servers: own.url, closeTimeoutMs: 2_000 });
    bus.subscribe('md.>', () => {});
    await bus.flush();
    await own.stop();
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expectBusError(() => bus.publish('md.a.b.trade', 1), 'closed');
    expectBusError(() => bus.subscribe('md.>', () => {}), 'closed');
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it('rides out a server restart on the same port: a disconnected gap per subscription, then traffic again', async () => {
    const own = await NatsServer.start();
    extraServers.push(own);
    const publisher = await open({}, own);
    const subscriber = await open({}, own);
    const trades = collect();
    const books = collect();
    const gaps: { pattern: string; gap: BusGap }[] = [];
    subscriber.subscribe('md.*.*.trade', trades.handler, {
      onGap: (gap) => gaps.push({ pattern: 'trade', gap }),
    });
    subscriber.subscribe('md.>', books.handler, { onGap: (gap) => gaps.push({ pattern: 'all', gap }) });
    await subscriber.flush();
    publisher.publish('md.v.S.trade', { before: true });
    await until(() => trades.messages.length === 1, 'a message before the restart');

    const down = Date.now();
    await own.stop();
    await new Promise((r) => setTimeout(r, 500)); // the clients notice and start retrying
    await own.restart();

    await until(() => gaps.length === 2, 'a disconnected gap on each subscription');
    expect(gaps.map((g) => g.pattern).sort()).toEqual(['all', 'trade']);
    for (const { gap } of gaps) {
      expect(gap).toMatchObject({ reason: 'disconnected', source: `127.0.0.1:${own.port}` });
      expect(gap.from).toBeGreaterThanOrEqual(down);
      expect(gap.to).toBeGreaterThan(gap.from);
      expect(gap.to).toBeLessThanOrEqual(Date.now());
    }

    // The publisher reconnects on its own schedule: probe until its messages arrive.
    let probe = 0;
    await until(async () => {
      publisher.publish('md.v.S.trade', { probe: probe++ });
      await new Promise((r) => setTimeout(r, 100));
      return trades.messages.length > 1;
    }, 'traffic after the restart');
    const count = trades.messages.length;
    for (let i = 0; i < 10; i++) publisher.publish('md.v.S.trade', { after: i });
    await publisher.flush();
    await until(() => trades.messages.length === count + 10, 'ten messages after the restart');
    expect(trades.messages.slice(count).map((m) => m.data)).toEqual(
      [...Array(10).keys()].map((i) => ({ after: i })),
    );
    expect(books.messages.length).toBe(trades.messages.length);
  });
});
