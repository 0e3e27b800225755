/**
 * What only the NATS backend has, against a real nats-server on loopback. Everything both backends
 * share (routing, refusals, backpressure, outages, a publisher in another process) runs in
 * bus-conformance.test.ts against both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NatsBus } from '../../src/services/bus/nats';
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
});
