import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/services/bus/codec';
import { EmbeddedBus } from '../../src/services/bus/embedded';
import { BusError, MAX_MESSAGE_BYTES, type BusGap, type BusMessage } from '../../src/services/bus/types';
import { tempDir } from '../helpers/temp-dir';
import { until } from '../helpers/process-fixtures';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openBus(options: Parameters<typeof EmbeddedBus.open>[0]): Promise<EmbeddedBus> {
  const bus = await EmbeddedBus.open(options);
  cleanups.push(() => bus.close());
  return bus;
}

function socketPath(): string {
  const dir = tempDir('vbus-');
  cleanups.push(() => dir.remove());
  return join(dir.path, 'p.sock');
}

describe('EmbeddedBus in one process', () => {
  it('delivers to local subscribers by pattern and refuses bad input, counted', async () => {
    const bus = await openBus({});
    const got: BusMessage[] = [];
    const sub = bus.subscribe('md.*.BTCUSDT.>', (m) => got.push(m));
    bus.publish('md.okx.BTCUSDT.trade', { px: 1 });
    bus.publish('md.okx.ETHUSDT.trade', { px: 2 });
    bus.publish('md.binance-spot.BTCUSDT.book.l2', { px: 3 });
    await bus.flush();
    expect(got.map((m) => [m.subject, m.data])).toEqual([
      ['md.okx.BTCUSDT.trade', { px: 1 }],
      ['md.binance-spot.BTCUSDT.book.l2', { px: 3 }],
    ]);
    expect(typeof got[0]!.at).toBe('number');
    sub.unsubscribe();
    bus.publish('md.okx.BTCUSDT.trade', { px: 4 });
    await bus.flush();
    expect(got).toHaveLength(2);

    expect(() => bus.publish('md.*.x', 1)).toThrow(BusError);
    expect(() => bus.publish('md..x', 1)).toThrow(expect.objectContaining({ code: 'invalid_subject' }));
    expect(() => bus.publish('md.x', 'y'.repeat(MAX_MESSAGE_BYTES))).toThrow(
      expect.objectContaining({ code: 'too_large' }),
    );
    expect(() => bus.subscribe('md.>.x', () => undefined)).toThrow(BusError);
    const m = bus.metrics();
    expect(m).toMatchObject({ published: 4, delivered: 2, rejected: 4 });
    await bus.close();
    expect(() => bus.publish('md.x', 1)).toThrow(expect.objectContaining({ code: 'closed' }));
  });

  it('a local subscriber that falls behind gets a dropped gap with the exact count', async () => {
    const bus = await openBus({ queueCapacity: 100 });
    let received = 0;
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    const gaps: BusGap[] = [];
    // The first message reaches the handler at once; it holds the subscription until released.
    bus.subscribe('a.b', () => ((received += 1), gate), { onGap: (g) => gaps.push(g) });
    for (let i = 0; i < 1000; i++) bus.publish('a.b', i);
    const stats = bus.metrics().subscribers[0]!;
    expect(stats).toMatchObject({ delivered: 1, queueDepth: 95, dropped: 904, warnings: 1 });
    release();
    await until(() => gaps.length === 1, 'the gap after the queued messages');
    expect(received).toBe(96);
    expect(gaps).toEqual([expect.objectContaining({ reason: 'dropped', dropped: 904, source: bus.id })]);
  });

  it('publishes over a Unix socket to a subscriber bus, wildcards included', async () => {
    const path = socketPath();
    const pub = await openBus({ listen: path, id: 'pub' });
    expect(pub.address).toBe(path);
    const sub = await openBus({ peers: [path], id: 'sub' });
    const got: string[] = [];
    sub.subscribe('md.*.BTC.trade', (m) => got.push(`star:${m.subject}`));
    sub.subscribe('md.okx.>', (m) => got.push(`tail:${m.subject}`));
    await sub.whenConnected();
    await until(
      () => pub.metrics().subscribers.some((s) => s.patterns.length === 2),
      'subscription at publisher',
    );
    expect(pub.metrics().subscribers.find((s) => s.remote)?.id).toBe('sub');
    for (const s of ['md.okx.BTC.trade', 'md.binance.BTC.trade', 'md.okx.ETH.book', 'md.binance.ETH.trade'])
      pub.publish(s, s);
    await pub.flush();
    await until(() => got.length === 4, 'four deliveries');
    expect(got.sort()).toEqual([
      'star:md.binance.BTC.trade',
      'star:md.okx.BTC.trade',
      'tail:md.okx.BTC.trade',
      'tail:md.okx.ETH.book',
    ]);
  });

  it('carries messages near the size limit and propagates unsubscribe to the publisher', async () => {
    const path = socketPath();
    const pub = await openBus({ listen: path });
    const sub = await openBus({ peers: [path] });
    const sizes: number[] = [];
    const first = sub.subscribe('big.>', (m) => sizes.push((m.data as string).length));
    let secondGot = 0;
    const second = sub.subscribe('big.>', () => (secondGot += 1));
    await until(() => pub.metrics().subscribers.some((s) => s.patterns.includes('big.>')), 'subscription');
    const near = 'z'.repeat(MAX_MESSAGE_BYTES - 2); // JSON string quotes make it exactly the limit
    for (let i = 0; i < 3; i++) pub.publish('big.one', near);
    await pub.flush();
    await until(() => sizes.length === 3, 'three large messages');
    expect(sizes).toEqual([near.length, near.length, near.length]);
    // Two subscriptions share the pattern: only the last unsubscribe removes it at the publisher.
    first.unsubscribe();
    pub.publish('big.two', 'small');
    await until(() => secondGot === 4, 'delivery to the remaining subscription');
    expect(sizes).toHaveLength(3);
    second.unsubscribe();
    await until(() => pub.metrics().subscribers.every((s) => s.patterns.length === 0), 'unsubscribe');
    expect(sub.metrics().rejected).toBe(0);
  });

  it('closes and counts connections that send garbage, and keeps serving the others', async () => {
    const pub = await openBus({ listen: '127.0.0.1:0' });
    expect(pub.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const [host, port] = pub.address.split(':') as [string, string];
    const sub = await openBus({ peers: [pub.address] });
    const got: unknown[] = [];
    sub.subscribe('x.y', (m) => got.push(m.data));
    await until(() => pub.metrics().subscribers.some((s) => s.patterns.includes('x.y')), 'subscription');

    const sendRaw = async (bytes: Buffer): Promise<void> => {
      const socket: Socket = connect(Number(port), host);
      cleanups.push(() => void socket.destroy());
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.write(bytes);
      await closed;
    };
    const hugeLength = Buffer.alloc(8);
    hugeLength.writeUInt32BE(0xffff_fff0);
    await sendRaw(hugeLength);
    // Random bytes whose length prefix is small enough to be read, so the body is the bad part.
    const random = Buffer.concat([Buffer.from([0, 0, 0, 32]), randomBytes(32)]);
    random[4] = 0x7b; // "{" then garbage: bad JSON
    await sendRaw(random);
    await sendRaw(Buffer.from('\u0000\u0000\u0000\u0005{"t":'));
    // Well-formed frames that a publisher must still refuse: a bad pattern, a publisher-only frame.
    await sendRaw(encodeFrame({ t: 'sub', patterns: ['md.>.x'] }));
    await sendRaw(encodeFrame({ t: 'gap', reason: 'dropped', from: 1, to: 2 }));
    expect(pub.metrics().rejected).toBe(5);
    await until(() => pub.metrics().subscribers.length === 1, 'garbage connections gone');

    pub.publish('x.y', 'still here');
    await until(() => got.length === 1, 'delivery after garbage');
    expect(got).toEqual(['still here']);
  });

  it('a subscriber drops a publisher that sends garbage, counts it and reconnects', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      socket.on('error', () => undefined);
      socket.resume(); // read, so the server sees the subscriber hang up
      socket.write(Buffer.from([0, 0, 0, 3, 0x6e, 0x6f, 0x21])); // "no!" is not JSON
    });
    const path = socketPath();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const sub = await openBus({ peers: [path] });
    sub.subscribe('a.>', () => undefined);
    await until(() => connections >= 2 && sub.metrics().rejected >= 2, 'reconnect after garbage');
  });

  it('refuses to take over a socket path a live publisher is using', async () => {
    // (A stale path left by a SIGKILLed publisher is reused: see the cross-process restart test.)
    const path = socketPath();
    const first = await openBus({ listen: path });
    await expect(EmbeddedBus.open({ listen: path })).rejects.toThrow(/another publisher/);
    await first.close();
    const second = await openBus({ listen: path });
    expect(second.address).toBe(path);
  });
});
