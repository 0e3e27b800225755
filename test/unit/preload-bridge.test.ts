import { describe, expect, it, vi } from 'vitest';
import { createIpcTransport, exposeVigil, type IpcRendererLike } from '../../src/preload/bridge';
import { commandNames, eventNames } from '../../src/shared/api';
import { exposedKeys } from '../../src/shared/client';
import type { ServiceInfo } from '../../src/shared/services';

type Listener = (event: unknown, ...args: unknown[]) => void;

/** An ipcRenderer stand-in: records invokes, answers them, and lets the test push events. */
class FakeIpcRenderer implements IpcRendererLike {
  readonly invokes: unknown[][] = [];
  readonly listeners = new Map<string, Listener[]>();
  reply: (channel: string, ...args: unknown[]) => unknown = (channel, ...args) =>
    channel === 'vigil:call' ? { ok: true, result: args } : { ok: true, result: { topics: args[0] } };

  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invokes.push([channel, ...args]);
    try {
      return Promise.resolve(this.reply(channel, ...args));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  on(channel: string, listener: Listener): this {
    this.listeners.set(channel, [...(this.listeners.get(channel) ?? []), listener]);
    return this;
  }
  /** What main's webContents.send('vigil:event', batch) looks like on this side. */
  pushBatch(...args: unknown[]): void {
    const ipcEvent = { sender: this, senderId: 0, ports: [] }; // must never reach user callbacks
    for (const listener of this.listeners.get('vigil:event') ?? []) listener(ipcEvent, ...args);
  }
  /** One event, in a batch of one. */
  push(...item: unknown[]): void {
    this.pushBatch([item]);
  }
  topicMessages(): unknown[][] {
    return this.invokes.filter(([channel]) => channel !== 'vigil:call');
  }
}

const service = { name: 'svc', state: 'running' } as ServiceInfo;

describe('window.vigil (checklist 20)', () => {
  it('exposes exactly the contract: every command, plus on, under the name vigil, once', () => {
    const exposeInMainWorld = vi.fn();
    const ipc = new FakeIpcRenderer();
    exposeVigil({ exposeInMainWorld }, ipc);
    expect(exposeInMainWorld).toHaveBeenCalledOnce();
    const [key, api] = exposeInMainWorld.mock.calls[0]!;
    expect(key).toBe('vigil');
    expect(exposedKeys(api as object)).toEqual([...commandNames, 'on'].sort());
  });

  it('gives the page nothing of Electron: only namespaces of functions, and on', () => {
    const exposeInMainWorld = vi.fn();
    exposeVigil({ exposeInMainWorld }, new FakeIpcRenderer());
    const api = exposeInMainWorld.mock.calls[0]![1] as Record<string, unknown>;
    const namespaces = [...new Set(commandNames.map((name) => name.split('.')[0]!))];
    expect(Object.keys(api).sort()).toEqual([...namespaces, 'on'].sort());
    for (const ns of namespaces) {
      for (const fn of Object.values(api[ns] as object)) expect(typeof fn).toBe('function');
    }
  });
});

describe('IPC transport: commands', () => {
  it('invokes vigil:call with the command and input, and returns the envelope', async () => {
    const ipc = new FakeIpcRenderer();
    ipc.reply = () => ({ ok: true, result: [service] });
    const exposeInMainWorld = vi.fn();
    const api = exposeVigil({ exposeInMainWorld }, ipc);
    expect(await api.services.list()).toEqual({ ok: true, result: [service] });
    await api.services.start({ name: 'svc' });
    expect(ipc.invokes).toEqual([
      ['vigil:call', 'services.list', {}],
      ['vigil:call', 'services.start', { name: 'svc' }],
    ]);
  });

  it('passes error envelopes through unchanged', async () => {
    const ipc = new FakeIpcRenderer();
    const refused = { ok: false, error: { code: 'forbidden', message: 'no' } };
    ipc.reply = () => refused;
    expect(await createIpcTransport(ipc).invoke('app.info', {})).toEqual(refused);
  });

  it('turns a rejected invoke or a malformed reply into an error envelope, never a throw', async () => {
    const ipc = new FakeIpcRenderer();
    const transport = createIpcTransport(ipc, () => {});
    ipc.reply = () => {
      throw new Error('Error: An object could not be cloned.');
    };
    expect(await transport.invoke('services.get', { name: () => 1 })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    ipc.reply = () => {
      throw new Error("No handler registered for 'vigil:call'");
    };
    expect(await transport.invoke('app.info', {})).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    });
    for (const reply of [undefined, null, 'ok', { ok: true }, { ok: false, error: 'x' }]) {
      ipc.reply = () => reply;
      expect(await transport.invoke('app.info', {}), JSON.stringify(reply)).toMatchObject({
        ok: false,
        error: { code: 'internal' },
      });
    }
  });
});

describe('IPC transport: events', () => {
  it('tells main about a topic on its first listener and its last, not in between', async () => {
    const ipc = new FakeIpcRenderer();
    const api = exposeVigil({ exposeInMainWorld: () => {} }, ipc);
    const off1 = api.on('service.state', () => {});
    const off2 = api.on('service.state', () => {});
    const off3 = api.on('service.state', () => {});
    expect(ipc.topicMessages()).toEqual([['vigil:subscribe', ['service.state']]]);
    off1();
    off1(); // twice: must not release someone else's count
    off2();
    expect(ipc.topicMessages()).toHaveLength(1);
    off3();
    expect(ipc.topicMessages()).toEqual([
      ['vigil:subscribe', ['service.state']],
      ['vigil:unsubscribe', ['service.state']],
    ]);
    api.on('service.state', () => {});
    expect(ipc.topicMessages()).toHaveLength(3);
    expect(ipc.topicMessages()[2]).toEqual(['vigil:subscribe', ['service.state']]);
  });

  it('counts each topic once per subscription, even if listed twice', () => {
    const ipc = new FakeIpcRenderer();
    const transport = createIpcTransport(ipc);
    const off = transport.subscribe(['service.state', 'service.state'], () => {});
    off();
    expect(ipc.topicMessages()).toEqual([
      ['vigil:subscribe', ['service.state']],
      ['vigil:unsubscribe', ['service.state']],
    ]);
  });

  it('listens on one channel and hands callbacks the payload only, never the IpcRendererEvent', () => {
    const ipc = new FakeIpcRenderer();
    const api = exposeVigil({ exposeInMainWorld: () => {} }, ipc);
    const a = vi.fn();
    const b = vi.fn();
    api.on('service.state', a);
    api.on('service.state', b);
    ipc.push('service.state', service);
    expect(a.mock.calls).toEqual([[service]]);
    expect(b.mock.calls).toEqual([[service]]);
    expect([...ipc.listeners.keys()]).toEqual(['vigil:event']);
    expect(ipc.listeners.get('vigil:event')).toHaveLength(1);
  });

  it('stops delivering after unsubscribe, ignores unsubscribed and malformed events', () => {
    const ipc = new FakeIpcRenderer();
    const transport = createIpcTransport(ipc);
    const listener = vi.fn();
    const off = transport.subscribe(['service.state'], listener);
    ipc.push('other.event', 1);
    ipc.push(42, 1);
    ipc.push();
    ipc.pushBatch('service.state', service); // not a batch
    ipc.pushBatch([null, 'service.state']);
    ipc.pushBatch();
    expect(listener).not.toHaveBeenCalled();
    ipc.push('service.state', service);
    off();
    ipc.push('service.state', service);
    expect(listener.mock.calls).toEqual([['service.state', service]]);
  });

  it('delivers a batch in order, each event to the listeners of its topic', () => {
    const ipc = new FakeIpcRenderer();
    const transport = createIpcTransport(ipc);
    const seen: unknown[] = [];
    transport.subscribe(['service.state', 'service.removed'], (event, payload) =>
      seen.push([event, payload]),
    );
    const other = { ...service, name: 'other' };
    ipc.pushBatch([
      ['service.state', service],
      ['metrics', {}],
      ['service.removed', { name: 'svc' }],
      ['service.state', other],
    ]);
    expect(seen).toEqual([
      ['service.state', service],
      ['service.removed', { name: 'svc' }],
      ['service.state', other],
    ]);
  });

  it('keeps delivering to other listeners when one throws', () => {
    const ipc = new FakeIpcRenderer();
    const log = vi.fn();
    const transport = createIpcTransport(ipc, log);
    const good = vi.fn();
    transport.subscribe(['service.state'], () => {
      throw new Error('bad callback');
    });
    transport.subscribe(['service.state'], good);
    ipc.push('service.state', service);
    expect(good).toHaveBeenCalledOnce();
    expect(log).toHaveBeenCalledOnce();
  });

  it('logs, without throwing, when main refuses a subscription', async () => {
    const ipc = new FakeIpcRenderer();
    const log = vi.fn();
    ipc.reply = () => ({ ok: false, error: { code: 'unknown_event', message: 'no', field: 'topics.0' } });
    const api = createIpcTransport(ipc, log);
    expect(() => api.subscribe(['nope' as never], () => {})).not.toThrow();
    await vi.waitFor(() => expect(log).toHaveBeenCalledOnce());
  });

  it('knows every event of the contract', () => {
    expect(eventNames).toContain('service.state');
  });
});
