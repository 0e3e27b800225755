/**
 * One suite, both backends: the embedded bus (publisher and subscriber on a Unix socket) and the NATS
 * backend against a real nats-server on loopback. Same scenarios, same expected figures: wildcard
 * routing with the publisher's time, refused subjects and sizes, a blocked subscriber held to the
 * 70 %/95 % rule with an exact drop count and a gap while its neighbour keeps up, a CPU-hogging
 * handler, a throwing handler, an outage reported as a `disconnected` gap, and a publisher in another
 * process. What only one backend has (interest filtering at the publisher, garbage frames, a server
 * restart) is in bus-embedded, bus-processes and bus-nats.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../src/services/bus/embedded';
import { NatsBus } from '../../src/services/bus/nats';
import {
  BusError,
  MAX_MESSAGE_BYTES,
  type Bus,
  type BusGap,
  type BusMessage,
  type SubscriberStats,
} from '../../src/services/bus/types';
import { NatsServer } from '../helpers/nats-server';
import { until } from '../helpers/process-fixtures';
import { tempDir } from '../helpers/temp-dir';

const publisherChild = resolve(import.meta.dirname, '../fixtures/bus/publisher.ts');

interface Warning {
  subscriber: string;
  depth: number;
  capacity: number;
}

interface EndOptions {
  queueCapacity?: number;
  onWarning?: (w: Warning) => void;
  onHandlerError?: (error: unknown) => void;
}

/** A publisher and a subscriber on separate connections, wired the way the backend wires them. */
interface World {
  pub: Bus;
  sub: Bus;
  /** Resolves once the subscriptions made so far are known where routing happens. */
  settle(): Promise<void>;
  /** What a `dropped` gap names as its source. */
  dropSource: string;
  /** Takes the route between them down for a moment and brings it back. */
  outage(): Promise<void>;
  /** Config for the publisher child process (fixtures/bus/publisher.ts). */
  childConfig(): object;
}

interface Backend {
  name: string;
  world(sub?: EndOptions): Promise<World>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const embedded: Backend = {
  name: 'embedded',
  async world(options = {}) {
    const dir = tempDir('vbusc-');
    cleanups.push(() => dir.remove());
    const path = join(dir.path, 'pub.sock');
    let pub = await EmbeddedBus.open({ listen: path, id: 'pub' });
    const sub = await EmbeddedBus.open({
      peers: [path],
      id: 'sub',
      ...(options.queueCapacity ? { queueCapacity: options.queueCapacity } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(options.onHandlerError ? { onHandlerError: options.onHandlerError } : {}),
    });
    cleanups.push(() => sub.close());
    cleanups.push(() => pub.close());
    await sub.whenConnected();
    const world: World = {
      pub,
      sub,
      dropSource: 'sub',
      async settle() {
        const wanted = new Set(
          sub
            .metrics()
            .subscribers.filter((s) => !(s as { remote?: boolean }).remote)
            .flatMap((s) => s.patterns),
        );
        await until(() => {
          const at = new Set(world.pub.metrics().subscribers.flatMap((s) => s.patterns));
          return [...wanted].every((p) => at.has(p));
        }, 'patterns at the publisher');
      },
      async outage() {
        await pub.close();
        await new Promise((r) => setTimeout(r, 300));
        pub = await EmbeddedBus.open({ listen: path, id: 'pub' });
        world.pub = pub;
        cleanups.push(() => pub.close());
        await world.settle();
      },
      childConfig: () => ({ backend: 'embedded', listen: join(dir.path, 'child.sock') }),
    };
    return world;
  },
};

const natsBackend: Backend = {
  name: 'nats',
  async world(options = {}) {
    const server = await NatsServer.start();
    cleanups.push(() => server.stop());
    const pub = await NatsBus.connect({ servers: server.url, name: 'pub' });
    const sub = await NatsBus.connect({
      servers: server.url,
      name: 'sub',
      ...(options.queueCapacity ? { queueCapacity: options.queueCapacity } : {}),
      ...(options.onWarning
        ? {
            onWarning: (w) =>
              options.onWarning!({ subscriber: w.subscriptionId, depth: w.queueDepth, capacity: w.capacity }),
          }
        : {}),
      ...(options.onHandlerError ? { onHandlerError: options.onHandlerError } : {}),
    });
    cleanups.push(() => sub.close());
    cleanups.push(() => pub.close());
    return {
      pub,
      sub,
      dropSource: server.url.replace('nats://', ''),
      settle: () => sub.flush(),
      async outage() {
        await server.stop();
        await new Promise((r) => setTimeout(r, 300));
        await server.restart();
      },
      childConfig: () => ({ backend: 'nats', servers: server.url }),
    };
  },
};

function collect(): { messages: BusMessage[]; handler: (m: BusMessage) => void } {
  const messages: BusMessage[] = [];
  return { messages, handler: (m) => messages.push(m) };
}

function expectBusError(action: () => void, code: BusError['code']): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(BusError);
  expect((thrown as BusError).code).toBe(code);
}

/** This process's own subscriptions, in subscribe order. */
function own(bus: Bus): SubscriberStats[] {
  return bus.metrics().subscribers.filter((s) => !(s as { remote?: boolean }).remote);
}

describe.each([embedded, natsBackend])('bus conformance: $name', (backend) => {
  it('routes * and > patterns, with the publisher time, and never what nobody wants', async () => {
    const { pub, sub, settle } = await backend.world();
    const btc = collect();
    const binance = collect();
    const everything = collect();
    sub.subscribe('md.*.BTCUSDT.trade', btc.handler);
    sub.subscribe('md.binance-spot.>', binance.handler);
    sub.subscribe('md.>', everything.handler);
    await settle();

    const before = Date.now();
    pub.publish('md.binance-spot.BTCUSDT.trade', { price: 1 });
    pub.publish('md.okx-spot.BTCUSDT.trade', { price: 2 });
    pub.publish('md.binance-spot.ETHUSDT.book', { bids: [[1, 2]] });
    pub.publish('md.okx-spot.ETHUSDT.trade', { price: 3 });
    pub.publish('other.binance-spot.BTCUSDT.trade', { price: 4 });
    await pub.flush();

    await until(() => everything.messages.length === 4 && btc.messages.length === 2, 'deliveries');
    expect(btc.messages.map((m) => m.subject)).toEqual([
      'md.binance-spot.BTCUSDT.trade',
      'md.okx-spot.BTCUSDT.trade',
    ]);
    expect(binance.messages.map((m) => m.data)).toEqual([{ price: 1 }, { bids: [[1, 2]] }]);
    expect(everything.messages.map((m) => m.subject)).not.toContain('other.binance-spot.BTCUSDT.trade');
    for (const m of everything.messages) {
      expect(m.at).toBeGreaterThanOrEqual(before);
      expect(m.at).toBeLessThanOrEqual(Date.now());
    }
    expect(pub.metrics().published).toBe(5);
    expect(sub.metrics()).toMatchObject({ delivered: 8, dropped: 0, rejected: 0 });
    expect(own(sub).map((s) => s.patterns)).toEqual([
      ['md.*.BTCUSDT.trade'],
      ['md.binance-spot.>'],
      ['md.>'],
    ]);

    // Unsubscribing stops delivery; the other subscriptions carry on.
    const before2 = everything.messages.length;
    const extra = collect();
    const s = sub.subscribe('md.okx-spot.>', extra.handler);
    await settle();
    s.unsubscribe();
    pub.publish('md.okx-spot.BTCUSDT.trade', { price: 5 });
    await pub.flush();
    await until(() => everything.messages.length === before2 + 1, 'delivery after unsubscribe');
    expect(extra.messages).toEqual([]);
  });

  it('refuses invalid subjects, patterns and oversized messages, counts them, and keeps serving', async () => {
    const { pub, sub, settle } = await backend.world();
    const got = collect();
    sub.subscribe('md.ok.>', got.handler);
    await settle();
    for (const subject of [
      '',
      'md..trade',
      'md.*.trade',
      'md.>',
      'md.a b.trade',
      'md.x.',
      '.md',
      'md.é.trade',
    ])
      expectBusError(() => pub.publish(subject, 1), 'invalid_subject');
    for (const pattern of ['md.>.trade', 'md..x', 'md.a*.trade', ''])
      expectBusError(() => pub.subscribe(pattern, () => {}), 'invalid_subject');
    expectBusError(() => pub.publish('md.ok.big', 'x'.repeat(MAX_MESSAGE_BYTES)), 'too_large');
    expect(pub.metrics()).toMatchObject({ published: 0, rejected: 13 });

    pub.publish('md.ok.small', { fine: true });
    pub.publish('md.ok.large', 'y'.repeat(MAX_MESSAGE_BYTES / 2));
    await pub.flush();
    await until(() => got.messages.length === 2, 'messages after the refusals');
    expect(got.messages[0]).toMatchObject({ subject: 'md.ok.small', data: { fine: true } });
    expect((got.messages[1]?.data as string).length).toBe(MAX_MESSAGE_BYTES / 2);
    expect(pub.metrics()).toMatchObject({ published: 2, rejected: 13 });
  });

  it('holds a blocked subscriber to 70 %/95 %, reports the drop as a gap, and leaves others alone', async () => {
    const warnings: Warning[] = [];
    const { pub, sub, settle, dropSource } = await backend.world({
      queueCapacity: 100,
      onWarning: (w) => warnings.push(w),
    });
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    cleanups.push(() => release());
    const slowEvents: (BusMessage | BusGap)[] = [];
    sub.subscribe(
      'md.fast-venue.*.trade',
      async (m) => {
        slowEvents.push(m);
        await gate; // blocked until the test lets go
      },
      { onGap: (g) => slowEvents.push(g) },
    );
    const fast = collect();
    const fastGaps: BusGap[] = [];
    sub.subscribe('md.fast-venue.>', fast.handler, { onGap: (g) => fastGaps.push(g) });
    await settle();

    // Bursts smaller than the fast subscriber's room: it keeps up while its neighbour is stuck.
    for (let burst = 0; burst < 12; burst++) {
      for (let i = burst * 25; i < (burst + 1) * 25; i++)
        pub.publish('md.fast-venue.BTCUSDT.trade', { seq: i });
      await pub.flush();
      await until(
        () => fast.messages.length === (burst + 1) * 25,
        `the fast subscriber to get burst ${burst}`,
      );
    }
    const slow = (): SubscriberStats => own(sub)[0]!;
    await until(() => slow().delivered + slow().queueDepth + slow().dropped === 300, 'all 300 accounted');
    // One in the blocked handler, the queue held at 95 % of 100, the rest dropped and counted.
    expect(slow()).toMatchObject({ delivered: 1, queueDepth: 95, capacity: 100, dropped: 204, warnings: 1 });
    expect(warnings).toEqual([{ subscriber: slow().id, depth: 70, capacity: 100 }]);
    expect(own(sub)[1]).toMatchObject({ delivered: 300, dropped: 0, queueDepth: 0, warnings: 0 });
    expect(sub.metrics().dropped).toBe(204);
    expect(fastGaps).toEqual([]);

    release();
    await until(() => slowEvents.length === 97, 'the queued messages and the drop gap');
    pub.publish('md.fast-venue.BTCUSDT.trade', { seq: 300 });
    await pub.flush();
    await until(() => slowEvents.length === 98, 'a message after the gap');
    const seqs = slowEvents.slice(0, 96).map((e) => ((e as BusMessage).data as { seq: number }).seq);
    expect(seqs).toEqual([...Array(96).keys()]); // the oldest are kept, the newest dropped
    const gap = slowEvents[96] as BusGap;
    expect(gap).toMatchObject({ reason: 'dropped', dropped: 204, source: dropSource });
    expect(gap.from).toBeLessThanOrEqual(gap.to);
    expect(slowEvents[97]).toMatchObject({ data: { seq: 300 } });
    expect(slow()).toMatchObject({ delivered: 97, dropped: 204, queueDepth: 0, warnings: 1 });
  });

  it('keeps delivering to the others while a synchronous handler hogs each turn', async () => {
    const { pub, sub, settle } = await backend.world({ queueCapacity: 100, onWarning: () => {} });
    const slowGaps: BusGap[] = [];
    let slowDelivered = 0;
    sub.subscribe(
      'md.hog.*.trade',
      () => {
        slowDelivered += 1;
        const end = performance.now() + 10; // 10 ms of CPU work per message
        while (performance.now() < end);
      },
      { onGap: (g) => slowGaps.push(g) },
    );
    const fast = collect();
    sub.subscribe('md.hog.>', fast.handler);
    await settle();
    for (let burst = 0; burst < 12; burst++) {
      for (let i = burst * 25; i < (burst + 1) * 25; i++) pub.publish('md.hog.BTCUSDT.trade', { seq: i });
      await pub.flush();
      await until(
        () => fast.messages.length === (burst + 1) * 25,
        `the fast subscriber to get burst ${burst}`,
      );
    }
    const droppedTotal = (): number => slowGaps.reduce((sum, g) => sum + (g.dropped ?? 0), 0);
    await until(() => slowDelivered + droppedTotal() === 300, 'the hog to catch up and report what it lost');
    const [slow, other] = own(sub);
    expect(slow).toMatchObject({ delivered: slowDelivered, dropped: droppedTotal(), warnings: 1 });
    expect(slow!.dropped).toBeGreaterThan(0);
    expect(slowGaps.every((g) => g.reason === 'dropped')).toBe(true);
    expect(other).toMatchObject({ delivered: 300, dropped: 0 });
  });

  it('keeps delivering when a handler throws', async () => {
    const errors: unknown[] = [];
    const { pub, sub, settle } = await backend.world({ onHandlerError: (e) => errors.push(e) });
    const got = collect();
    sub.subscribe('md.t.*.trade', () => {
      throw new Error('strategy bug');
    });
    sub.subscribe('md.t.>', got.handler);
    await settle();
    for (let i = 0; i < 5; i++) pub.publish('md.t.S.trade', i);
    await pub.flush();
    await until(
      () => got.messages.length === 5 && errors.length === 5,
      'deliveries despite the throwing handler',
    );
    expect((errors[0] as Error).message).toBe('strategy bug');
  });

  it('reports an outage as a disconnected gap on every subscription, then carries traffic again', async () => {
    const world = await backend.world();
    const trades = collect();
    const all = collect();
    const gaps: { pattern: string; gap: BusGap }[] = [];
    world.sub.subscribe('md.*.*.trade', trades.handler, {
      onGap: (gap) => gaps.push({ pattern: 'trade', gap }),
    });
    world.sub.subscribe('md.>', all.handler, { onGap: (gap) => gaps.push({ pattern: 'all', gap }) });
    await world.settle();
    world.pub.publish('md.v.S.trade', { before: true });
    await until(() => trades.messages.length === 1, 'a message before the outage');

    const down = Date.now();
    await world.outage();
    await until(() => gaps.length === 2, 'a disconnected gap on each subscription');
    expect(gaps.map((g) => g.pattern).sort()).toEqual(['all', 'trade']);
    for (const { gap } of gaps) {
      expect(gap.reason).toBe('disconnected');
      expect(gap.from).toBeGreaterThanOrEqual(down);
      expect(gap.to).toBeGreaterThan(gap.from);
      expect(gap.to).toBeLessThanOrEqual(Date.now());
    }
    // Publishers reconnect on their own schedule: probe until messages arrive.
    let probe = 0;
    await until(async () => {
      world.pub.publish('md.v.S.trade', { probe: probe++ });
      await new Promise((r) => setTimeout(r, 100));
      return trades.messages.length > 1;
    }, 'traffic after the outage');
    const count = trades.messages.length;
    for (let i = 0; i < 10; i++) world.pub.publish('md.v.S.trade', { after: i });
    await world.pub.flush();
    await until(() => trades.messages.length === count + 10, 'ten messages after the outage');
    expect(trades.messages.slice(count).map((m) => m.data)).toEqual(
      [...Array(10).keys()].map((i) => ({ after: i })),
    );
  });

  it('delivers, in order, what a publisher in another process sends', async () => {
    const world = await backend.world();
    const config = world.childConfig() as { backend: string; listen?: string };
    // The embedded subscriber connects to the child's socket; NATS goes through the server.
    const sub = world.sub;
    const sym1 = collect();
    const all = collect();
    sub.subscribe('md.child-venue.SYM1.*', sym1.handler);
    sub.subscribe('md.child-venue.>', all.handler);
    if (!config.listen) await sub.flush();
    const child = spawn(process.execPath, ['--import', 'tsx', publisherChild, JSON.stringify(config), '60'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => void (child.exitCode === null && child.kill('SIGKILL')));
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    if (config.listen) {
      await until(() => output.includes('listening'), 'the child to listen');
      (sub as EmbeddedBus).addPeer(config.listen);
    }
    expect(await exited, output).toBe(0);
    expect(output).toContain('published 60');
    await until(() => all.messages.length === 60, 'the child’s 60 messages');
    expect(all.messages.map((m) => (m.data as { seq: number }).seq)).toEqual([...Array(60).keys()]);
    expect(new Set(all.messages.map((m) => (m.data as { pid: number }).pid))).toEqual(new Set([child.pid]));
    expect(sym1.messages).toHaveLength(20);
  });
});
