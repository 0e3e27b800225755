/**
 * JSON-RPC calls: ids, results and errors matched to their call, timeouts, calls failed when their
 * socket goes, and the credit budgets pacing subscriptions apart from other requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient, RpcError, RpcUnavailable } from '../../src/services/collector/deribit/rpc';

const clients: RpcClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function client(options: Partial<ConstructorParameters<typeof RpcClient>[0]> = {}) {
  const sent: { at: number; generation: number; body: { id: number; method: string; params: unknown } }[] =
    [];
  const open = new Set([1, 2]);
  const rpc = new RpcClient({
    send: (text, generation) => {
      if (!open.has(generation)) return false;
      sent.push({ at: Date.now(), generation, body: JSON.parse(text) as never });
      return true;
    },
    timeoutMs: 1_000,
    ...options,
  });
  clients.push(rpc);
  return { rpc, sent, open };
}

describe('RpcClient', () => {
  it('sends JSON-RPC 2.0 with fresh ids and settles each call with its own answer', async () => {
    const { rpc, sent } = client();
    const a = rpc.call('public/test', {}, 1);
    const b = rpc.call('public/get_time', {}, 1);
    expect(sent.map((s) => s.body)).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'public/test', params: {} },
      { jsonrpc: '2.0', id: 2, method: 'public/get_time', params: {} },
    ]);
    expect(rpc.settle(2, 1767225600000)).toBe('public/get_time');
    expect(rpc.settle(1, undefined, { code: 10028, message: 'too_many_requests' })).toBe('public/test');
    expect(rpc.settle(1, 'late')).toBeUndefined();
    expect(rpc.settle('x', 1)).toBeUndefined();
    await expect(b).resolves.toBe(1767225600000);
    const error = await a.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toMatchObject({ code: 10028, message: 'public/test: error 10028 too_many_requests' });
    expect(rpc.inFlight).toBe(0);
  });

  it('fails a call whose socket is not open, goes away, or never answers', async () => {
    const { rpc } = client({ timeoutMs: 50 });
    await expect(rpc.call('public/test', {}, 3)).rejects.toThrow(/connection 3 is not open/);
    const old = rpc.call('public/test', {}, 1);
    const current = rpc.call('public/test', {}, 2);
    rpc.dropThrough(1, 'connection 1 closed');
    await expect(old).rejects.toBeInstanceOf(RpcUnavailable);
    await expect(current).rejects.toThrow(/no answer within 50 ms/);
  });

  it('paces subscriptions by their own budget, apart from other requests', async () => {
    const { rpc, sent } = client({
      subscribe: { ratePerSec: 20, burst: 2 },
      request: { ratePerSec: 1000, burst: 50 },
    });
    const started = Date.now();
    const subs = Array.from({ length: 4 }, () =>
      rpc.call('public/subscribe', { channels: ['x'] }, 1, 'subscribe'),
    );
    const tests = Array.from({ length: 10 }, () => rpc.call('public/test', {}, 1));
    // The burst of subscribes and every plain request go at once; the other subscribes wait their turn.
    expect(sent.filter((s) => s.body.method === 'public/subscribe')).toHaveLength(2);
    expect(sent.filter((s) => s.body.method === 'public/test')).toHaveLength(10);
    expect(rpc.queued).toBe(2);
    await new Promise((r) => setTimeout(r, 150));
    const subscribes = sent.filter((s) => s.body.method === 'public/subscribe');
    expect(subscribes).toHaveLength(4);
    expect(subscribes[3]!.at - started).toBeGreaterThanOrEqual(80); // 2 more at 20/s
    for (const s of sent) rpc.settle(s.body.id, 'ok');
    await Promise.all([...subs, ...tests]);
    // 'none' skips the queues: a heartbeat answer never waits behind subscriptions.
    for (let i = 0; i < 5; i++)
      void rpc.call('public/subscribe', { channels: ['y'] }, 1, 'subscribe').catch(() => undefined);
    const before = sent.length;
    void rpc.call('public/test', {}, 1, 'none').catch(() => undefined);
    expect(sent.length).toBe(before + 1);
    expect(sent.at(-1)!.body.method).toBe('public/test');
  });

  it('close fails every call, queued or in flight', async () => {
    const { rpc } = client({ subscribe: { ratePerSec: 1, burst: 1 } });
    const first = rpc.call('public/subscribe', { channels: ['a'] }, 1, 'subscribe');
    const queued = rpc.call('public/subscribe', { channels: ['b'] }, 1, 'subscribe');
    rpc.close();
    await expect(first).rejects.toThrow(/closed/);
    await expect(queued).rejects.toThrow(/closed/);
    await expect(rpc.call('public/test', {}, 1, 'none')).rejects.toThrow(/closed/);
  });
});
