/**
 * What only the NATS backend has, against a real nats-server on loopback. Everything both backends
 * share (routing, refusals, backpressure, outages, a publisher in another process) runs in
 * bus-conformance.test.ts against both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus, splitCredentials } from '../../src/services/bus/nats';
import { BusError } from '../../src/services/bus/types';
import { NatsServer } from '../helpers/nats-server';

const extraServers: NatsServer[] = [];

afterEach(async () => {
  await Promise.all(extraServers.splice(0).map((s) => s.stop()));
});

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

  it('takes credentials from the configured URL: user and password, or a token', async () => {
    const withUser = await NatsServer.start(['--user', 'trader', '--pass', 's3cr:t']);
    extraServers.push(withUser);
    const url = `nats://trader:${encodeURIComponent('s3cr:t')}@127.0.0.1:${withUser.port}`;
    const bus = await NatsBus.connect({ servers: url });
    const got: unknown[] = [];
    bus.subscribe('md.a.b.trade', (m) => got.push(m.data));
    await bus.flush();
    bus.publish('md.a.b.trade', 1);
    await bus.flush();
    await expect.poll(() => got).toEqual([1]);
    await bus.close();
    await expect(NatsBus.connect({ servers: withUser.url })).rejects.toThrow(/Authorization/);

    const withToken = await NatsServer.start(['--auth', 'tok3n']);
    extraServers.push(withToken);
    const tokenBus = await NatsBus.connect({ servers: `nats://tok3n@127.0.0.1:${withToken.port}` });
    await tokenBus.close();
    expect(splitCredentials('nats://a:b@h:1')).toEqual({
      servers: ['nats://h:1'],
      credentials: { user: 'a', pass: 'b' },
    });
  });
});
