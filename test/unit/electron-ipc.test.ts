import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import { createRouter, type Handlers, type Router } from '../../src/main/api/router';
import {
  registerIpc,
  type IpcContents,
  type IpcInvokeEvent,
  type IpcMainLike,
} from '../../src/main/electron/ipc';
import { APP_ENTRY_URL, appOrigins } from '../../src/main/electron/origins';
import { EVENT_FLUSH_MS } from '../../src/main/electron/window-events';
import { MAX_REQUEST_BYTES } from '../../src/shared/api';
import { fakeHandlers, fakeService } from '../helpers/fake-handlers';

const service = fakeService;
const handlers = fakeHandlers;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcInvokeEvent, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcInvokeEvent, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke would resolve to (a handler that throws would reject it). */
  invoke(channel: string, event: IpcInvokeEvent, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return Promise.resolve(handler(event, ...args));
  }
}

let nextId = 1;
class FakeContents extends EventEmitter implements IpcContents {
  readonly id = nextId++;
  readonly mainFrame: { url: string };
  readonly sent: unknown[][] = [];
  destroyed = false;
  constructor(url: string) {
    super();
    this.mainFrame = { url };
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push([channel, ...args]);
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
}

function setup(
  opts: {
    router?: Router;
    handlers?: Partial<Handlers>;
    devServerUrl?: string;
    own?: (c: IpcContents) => boolean;
  } = {},
) {
  const ipcMain = new FakeIpcMain();
  const events = new EventHub();
  const router = opts.router ?? createRouter(handlers(opts.handlers), () => {});
  const log = vi.fn();
  const bridge = registerIpc({
    ipcMain,
    router,
    events,
    origins: appOrigins(opts.devServerUrl),
    isOwnWindow: opts.own ?? (() => true),
    log,
  });
  const window = new FakeContents(APP_ENTRY_URL);
  const fromWindow: IpcInvokeEvent = { sender: window, senderFrame: window.mainFrame };
  const call = (command: unknown, input?: unknown, event: IpcInvokeEvent = fromWindow) =>
    ipcMain.invoke('vigil:call', event, command, input);
  return { ipcMain, events, router, bridge, window, fromWindow, call, log };
}

describe('IPC call: sender validation (checklist 17)', () => {
  it('serves the main frame of an app window on app://vigil', async () => {
    const seen = vi.fn();
    const { call } = setup({ handlers: { 'services.list': (_input, ctx) => (seen(ctx), [service]) } });
    expect(await call('services.list', {})).toEqual({ ok: true, result: [service] });
    expect(seen).toHaveBeenCalledWith({ transport: 'ipc' });
  });

  it.each([
    ['a foreign https origin', 'https://app.example.attacker.com/index.html'],
    ['a look-alike app host', 'app://vigil.evil/index.html'],
    ['a file:// page', 'file:///home/user/evil.html'],
    ['a data: page', 'data:text/html,<script>1</script>'],
    ['about:blank', 'about:blank'],
    ['the dev server when not in dev', 'http://localhost:5173/'],
  ])('refuses %s', async (_label, url) => {
    const dispatch = vi.fn();
    const { call } = setup({ router: { dispatch } });
    const contents = new FakeContents(url);
    const reply = await call('services.list', {}, { sender: contents, senderFrame: contents.mainFrame });
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('refuses a null senderFrame (navigated away or destroyed)', async () => {
    const { call, window } = setup();
    expect(await call('services.list', {}, { sender: window, senderFrame: null })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it('refuses a sub-frame even when it is on the app origin', async () => {
    const { call, window } = setup();
    const iframe = { url: 'app://vigil/index.html' };
    expect(await call('services.list', {}, { sender: window, senderFrame: iframe })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it('refuses a webContents that is not one of our windows', async () => {
    const { call } = setup({ own: () => false });
    expect(await call('services.list', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('refuses a destroyed webContents', async () => {
    const { call, window } = setup();
    window.destroyed = true;
    expect(await call('services.list', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('refuses, without throwing, a frame that was disposed mid-check', async () => {
    const { call } = setup();
    const disposed = {
      get url(): string {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
    };
    const contents = new FakeContents(APP_ENTRY_URL);
    Object.defineProperty(contents, 'mainFrame', { value: disposed });
    const reply = await call('services.list', {}, { sender: contents, senderFrame: disposed });
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it('serves the dev server origin in dev, compared by origin not prefix', async () => {
    const { call } = setup({ devServerUrl: 'http://localhost:5173' });
    for (const [url, ok] of [
      ['http://localhost:5173/', true],
      ['http://localhost:5173/some/route?x=1', true],
      ['http://localhost:5174/', false],
      ['https://localhost:5173/', false],
      ['http://localhost:5173.attacker.com/', false],
      ['http://localhost/', false],
    ] as const) {
      const contents = new FakeContents(url);
      const reply = await call('services.list', {}, { sender: contents, senderFrame: contents.mainFrame });
      expect(reply, url).toMatchObject({ ok });
    }
  });
});

describe('IPC call: requests', () => {
  it('answers invalid input with invalid_input naming the field', async () => {
    const { call } = setup();
    expect(await call('services.get', {})).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'name' },
    });
    expect(await call('services.get', { name: 'Bad Name!' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'name' },
    });
    expect(await call('services.get', { name: 'svc', extra: true })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'extra' },
    });
  });

  it('refuses oversized input before it reaches the router', async () => {
    const dispatch = vi.fn();
    const { call } = setup({ router: { dispatch } });
    const reply = await call('services.get', { name: 'x'.repeat(MAX_REQUEST_BYTES) });
    expect(reply).toMatchObject({ ok: false, error: { code: 'payload_too_large' } });
    // Measured in bytes: multi-byte characters count for what they weigh.
    expect(await call('services.get', { name: '€'.repeat(Math.ceil(MAX_REQUEST_BYTES / 3)) })).toMatchObject({
      ok: false,
      error: { code: 'payload_too_large' },
    });
    expect(dispatch).not.toHaveBeenCalled();
  });

  it('refuses input that is not JSON data (structured clone allows cycles and BigInt)', async () => {
    const { call } = setup();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await call('services.get', cyclic)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call('services.get', { name: 10n })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  it('answers an unknown command with unknown_command', async () => {
    const { call } = setup();
    for (const command of ['nope', '__proto__', 'constructor', 42, undefined]) {
      expect(await call(command, {})).toMatchObject({ ok: false, error: { code: 'unknown_command' } });
    }
  });

  it('turns a throwing handler into internal, and keeps serving', async () => {
    const { call } = setup({
      handlers: {
        'services.start': () => {
          throw new Error('boom');
        },
      },
    });
    expect(await call('services.start', { name: 'svc' })).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(await call('services.list', {})).toEqual({ ok: true, result: [service] });
  });

  it('never rejects, even if the router itself does', async () => {
    const { call, log } = setup({ router: { dispatch: () => Promise.reject(new Error('router bug')) } });
    await expect(call('services.list', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(log).toHaveBeenCalled();
  });

  it('passes a missing input to the router as an empty one', async () => {
    const { call } = setup();
    expect(await call('services.list')).toEqual({ ok: true, result: [service] });
  });
});

describe('IPC events: subscribe / unsubscribe', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  /** Events reach a window at the next flush. */
  const emit = (s: ReturnType<typeof setup>, payload = service): void => {
    s.events.emit('service.state', payload);
    vi.advanceTimersByTime(EVENT_FLUSH_MS);
  };
  const sub = (s: ReturnType<typeof setup>, topics: unknown, event = s.fromWindow) =>
    s.ipcMain.invoke('vigil:subscribe', event, topics);
  const unsub = (s: ReturnType<typeof setup>, topics: unknown, event = s.fromWindow) =>
    s.ipcMain.invoke('vigil:unsubscribe', event, topics);

  it('delivers subscribed events on vigil:event, and stops after unsubscribe', async () => {
    const s = setup();
    expect(await sub(s, ['service.state'])).toEqual({ ok: true, result: { topics: ['service.state'] } });
    emit(s);
    expect(s.window.sent).toEqual([['vigil:event', [['service.state', service]]]]);
    expect(await unsub(s, ['service.state'])).toEqual({ ok: true, result: { topics: [] } });
    emit(s);
    expect(s.window.sent).toHaveLength(1);
  });

  it('keeps one subscription per window', async () => {
    const s = setup();
    await sub(s, ['service.state']);
    await sub(s, ['service.state']);
    emit(s);
    expect(s.window.sent).toHaveLength(1);
  });

  it('names an unknown topic with unknown_event and topics.N', async () => {
    const s = setup();
    expect(await sub(s, ['service.state', 'secrets.dump'])).toMatchObject({
      ok: false,
      error: { code: 'unknown_event', field: 'topics.1' },
    });
    expect(await unsub(s, ['nope'])).toMatchObject({
      ok: false,
      error: { code: 'unknown_event', field: 'topics.0' },
    });
    // Nothing was subscribed by the refused request.
    emit(s);
    expect(s.window.sent).toHaveLength(0);
  });

  it('refuses topics that are not a list of names', async () => {
    const s = setup();
    for (const topics of ['service.state', [], [42], undefined, { 0: 'service.state' }]) {
      expect(await sub(s, topics), JSON.stringify(topics)).toMatchObject({
        ok: false,
        error: { code: 'invalid_input' },
      });
    }
    expect(await sub(s, [42])).toMatchObject({ error: { field: 'topics.0' } });
  });

  it('validates the sender of subscriptions too', async () => {
    const s = setup();
    const evil = new FakeContents('https://app.example.attacker.com/');
    const event = { sender: evil, senderFrame: evil.mainFrame };
    expect(await sub(s, ['service.state'], event)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await sub(s, ['service.state'], { sender: s.window, senderFrame: null })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    emit(s);
    expect(evil.sent).toHaveLength(0);
    expect(s.window.sent).toHaveLength(0);
  });

  it('sends nothing to a destroyed window and drops its subscription', async () => {
    const s = setup();
    await sub(s, ['service.state']);
    s.window.destroyed = true; // destroyed, 'destroyed' not yet emitted
    expect(() => s.events.emit('service.state', service)).not.toThrow();
    expect(s.window.sent).toHaveLength(0);
    s.window.destroy();
    expect(s.window.listenerCount('destroyed')).toBe(0);
    // A new window gets its own, fresh subscription.
    const next = new FakeContents(APP_ENTRY_URL);
    await sub(s, ['service.state'], { sender: next, senderFrame: next.mainFrame });
    emit(s);
    expect(next.sent).toHaveLength(1);
  });

  it('batches a burst into one message per interval, in order, and sends a lone event promptly', async () => {
    const s = setup();
    await sub(s, ['service.state']);
    const names = Array.from({ length: 50 }, (_, i) => `svc-${i}`);
    for (const name of names) s.events.emit('service.state', { ...service, name });
    vi.advanceTimersByTime(0);
    expect(s.window.sent).toHaveLength(1);
    const [channel, batch] = s.window.sent[0]! as [string, [string, typeof service][]];
    expect(channel).toBe('vigil:event');
    expect(batch.map(([, info]) => info.name)).toEqual(names);
    // Right after a send, the next events wait for the interval, then go together.
    s.events.emit('service.state', service);
    s.events.emit('service.state', service);
    vi.advanceTimersByTime(EVENT_FLUSH_MS - 1);
    expect(s.window.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(s.window.sent).toHaveLength(2);
    expect(s.window.sent[1]![1]).toHaveLength(2);
  });

  it('drops what is queued for a window destroyed before the flush', async () => {
    const s = setup();
    await sub(s, ['service.state']);
    s.events.emit('service.state', service);
    s.window.destroy();
    vi.advanceTimersByTime(EVENT_FLUSH_MS);
    expect(s.window.sent).toHaveLength(0);
  });

  it('dispose removes every handler and subscription', async () => {
    const s = setup();
    await sub(s, ['service.state']);
    s.bridge.dispose();
    expect([...s.ipcMain.handlers.keys()]).toEqual([]);
    emit(s);
    expect(s.window.sent).toHaveLength(0);
  });
});
