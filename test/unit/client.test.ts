import { describe, expect, it, vi } from 'vitest';
import { commandNames } from '../../src/shared/api';
import { createClient, exposedKeys, type Transport } from '../../src/shared/client';

describe('createClient', () => {
  it('exposes exactly one function per command plus on()', () => {
    const transport: Transport = { invoke: vi.fn(), subscribe: vi.fn() };
    expect(exposedKeys(createClient(transport))).toEqual([...commandNames, 'on'].sort());
  });

  it('sends the command name and input, defaulting no input to {}', async () => {
    const invoke = vi.fn().mockResolvedValue({ ok: true, result: 1 });
    const api = createClient({ invoke, subscribe: vi.fn() });
    await api.services.get({ name: 'a' });
    await api.app.info();
    expect(invoke.mock.calls).toEqual([
      ['services.get', { name: 'a' }],
      ['app.info', {}],
    ]);
  });

  it('delivers only the payload of the event it listens to, and unsubscribes', () => {
    const off = vi.fn();
    let deliver: ((event: 'service.state', payload: unknown) => void) | null = null;
    const api = createClient({
      invoke: vi.fn(),
      subscribe: (topics, listener) => {
        expect(topics).toEqual(['service.state']);
        deliver = listener;
        return off;
      },
    });
    const seen: unknown[] = [];
    const unsubscribe = api.on('service.state', (p) => seen.push(p));
    deliver!('service.state', { name: 'x' });
    expect(seen).toEqual([{ name: 'x' }]);
    unsubscribe();
    expect(off).toHaveBeenCalledOnce();
  });
});
