import { describe, expect, it, vi } from 'vitest';
import { createRouter } from '../../src/main/api/router';
import { commandNames } from '../../src/shared/api';
import { fakeHandlers, fakeService } from '../helpers/fake-handlers';

const service = fakeService;
const handlers = fakeHandlers;

const ctx = { transport: 'internal' } as const;

describe('router', () => {
  it('routes a valid call and returns its result', async () => {
    const router = createRouter(handlers());
    expect(await router.dispatch('services.get', { name: 'svc' }, ctx)).toEqual({
      ok: true,
      result: service,
    });
    expect(await router.dispatch('services.list', undefined, ctx)).toEqual({ ok: true, result: [service] });
  });

  it('names the missing field of invalid input', async () => {
    const router = createRouter(handlers());
    const r = await router.dispatch('services.get', {}, ctx);
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input', field: 'name' } });
  });

  it('names an unknown field and refuses a wrong type', async () => {
    const router = createRouter(handlers());
    expect(await router.dispatch('services.get', { name: 'svc', extra: 1 }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'extra' },
    });
    expect(await router.dispatch('services.get', { name: 42 }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'name' },
    });
    expect(await router.dispatch('app.info', 'text', ctx)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
  });

  it('says what a bad record key must be, naming the key', async () => {
    const router = createRouter(handlers());
    const r = await router.dispatch(
      'services.add',
      {
        definition: {
          name: 'x',
          kind: 'custom',
          program: { type: 'command', command: '/bin/true', args: [] },
          env: { 'BAD-NAME': '1' },
        },
      },
      ctx,
    );
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: 'invalid_input',
        field: 'definition.env.BAD-NAME',
        message: 'definition.env.BAD-NAME: environment names are letters, digits and _',
      },
    });
  });

  it('refuses an unknown command, including inherited property names', async () => {
    const router = createRouter(handlers());
    for (const name of ['nope', 'toString', '__proto__', 42, null]) {
      expect(await router.dispatch(name, {}, ctx)).toMatchObject({
        ok: false,
        error: { code: 'unknown_command' },
      });
    }
  });

  it('passes an ApiError through and turns any other throw into internal, and keeps serving', async () => {
    const log = vi.fn();
    const router = createRouter(
      handlers({
        'services.start': () => {
          throw new Error('disk on fire');
        },
        'services.stop': () => Promise.reject(new Error('async failure')),
      }),
      log,
    );
    expect(await router.dispatch('services.get', { name: 'x' }, ctx)).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'no service named "x"', field: 'name' },
    });
    expect(await router.dispatch('services.start', { name: 'svc' }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'internal', message: expect.stringContaining('disk on fire') },
    });
    expect(await router.dispatch('services.stop', { name: 'svc' }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(log).toHaveBeenCalledTimes(2);
    expect(await router.dispatch('services.list', {}, ctx)).toMatchObject({ ok: true });
  });

  it('has a handler for every command in the contract', () => {
    expect(Object.keys(handlers()).sort()).toEqual([...commandNames].sort());
  });
});
