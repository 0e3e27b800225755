/** The headless transport over real sockets: auth, origin, static files, and bad requests. */
import { request } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { startHeadlessServer, type HeadlessServer } from '../../src/main/server/headless-server';
import { MAX_REQUEST_BYTES } from '../../src/shared/api';
import type { ServiceInfo } from '../../src/shared/services';
import { connect } from '../helpers/ws-client';
import { tempDir } from '../helpers/temp-dir';

const token = 'test-token-0123456789abcdef';
const out = resolve(import.meta.dirname, '../../out');
let dir: ReturnType<typeof tempDir>;
let core: Core;
let server: HeadlessServer;
let wsUrl: string;
let base: string;

beforeAll(async () => {
  dir = tempDir();
  core = await createCore({ mode: 'headless', dataDir: dir.path, servicesDir: resolve(out, 'services') });
  server = await startHeadlessServer({
    host: '127.0.0.1',
    port: 0,
    token,
    rendererDir: resolve(out, 'renderer'),
    router: core.router,
    events: core.events,
    serverName: 'vigil test',
  });
  base = `http://127.0.0.1:${server.port}`;
  wsUrl = `ws://127.0.0.1:${server.port}/api/ws?token=${token}`;
});

afterAll(async () => {
  await server?.close();
  await core?.close();
  dir?.remove();
});

function httpGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('headless server', () => {
  it('prints a URL with the token and serves the UI with a strict CSP', async () => {
    expect(server.url).toBe(`${base}/?token=${token}`);
    const page = await httpGet('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<div id="root">');
  });

  it('refuses path traversal and unknown files', async () => {
    expect((await httpGet('/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await httpGet('/..%2f..%2fpackage.json')).status).toBe(404);
    expect((await httpGet('/no-such-file.js')).status).toBe(404);
  });

  it('refuses a Host that is not loopback (DNS rebinding)', async () => {
    expect((await httpGet('/', { Host: `evil.example:${server.port}` })).status).toBe(421);
  });

  it('tells a right token from a wrong one at /api/session', async () => {
    expect((await httpGet(`/api/session?token=${token}`)).status).toBe(204);
    expect((await httpGet('/api/session?token=wrong')).status).toBe(401);
    expect((await httpGet('/api/session')).status).toBe(401);
    expect((await httpGet('/api/session', { Authorization: `Bearer ${token}` })).status).toBe(204);
  });

  it('refuses a WebSocket with a wrong or missing token, or a foreign origin', async () => {
    const wsBase = `ws://127.0.0.1:${server.port}/api/ws`;
    await expect(connect(`${wsBase}?token=wrong-token-0123456789`)).rejects.toThrow('HTTP 401');
    await expect(connect(wsBase)).rejects.toThrow('HTTP 401');
    await expect(connect(wsUrl, { Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    const own = await connect(wsUrl, { Origin: base });
    expect((await own.call('app.info')).ok).toBe(true);
    await own.close();
  });

  it('round-trips a command', async () => {
    const client = await connect(wsUrl);
    const reply = await client.call('app.info');
    expect(reply).toMatchObject({ ok: true, result: { name: 'Vigil', mode: 'headless', dataDir: dir.path } });
    await client.close();
  });

  it('answers 20 malformed or oversized requests with typed errors and keeps serving', async () => {
    const client = await connect(wsUrl);
    const bystander = await connect(wsUrl);
    const huge = 'x'.repeat(MAX_REQUEST_BYTES + 10);
    const call = (command: unknown, input: unknown, id: unknown = 7) =>
      JSON.stringify({ type: 'call', id, command, input });
    const cases: [string, string | Buffer, string, string?][] = [
      ['not JSON', 'hello', 'bad_request'],
      ['truncated JSON', '{"type":"call","id":1', 'bad_request'],
      ['a JSON array', '[]', 'bad_request'],
      ['a JSON number', '42', 'bad_request'],
      ['JSON null', 'null', 'bad_request'],
      ['no frame type', '{}', 'bad_request', 'type'],
      ['an unknown frame type', '{"type":"launch","id":1}', 'bad_request', 'type'],
      ['a call without a command', '{"type":"call","id":1}', 'bad_request', 'command'],
      ['a negative id', call('app.info', {}, -1), 'bad_request', 'id'],
      ['an unknown command', call('rm.rf', {}), 'unknown_command'],
      ['a prototype key as command', call('__proto__', {}), 'unknown_command'],
      ['missing input field', call('services.get', {}), 'invalid_input', 'name'],
      ['wrong input type', call('services.get', { name: 42 }), 'invalid_input', 'name'],
      ['invalid service name', call('services.get', { name: 'Bad Name!' }), 'invalid_input', 'name'],
      [
        'unknown input field',
        call('services.start', { name: 'selfcheck', force: true }),
        'invalid_input',
        'force',
      ],
      ['input that is not an object', call('app.info', 'please'), 'invalid_input'],
      ['an unknown service', call('services.stop', { name: 'nope' }), 'not_found', 'name'],
      [
        'an unknown event topic',
        '{"type":"subscribe","id":3,"topics":["market.moon"]}',
        'unknown_event',
        'topics.0',
      ],
      ['a binary frame', Buffer.from([1, 2, 3]), 'bad_request'],
      ['an oversized frame', huge, 'payload_too_large'],
      ['an oversized valid call', call('services.get', { name: huge }), 'payload_too_large'],
      ['deeply nested JSON', '['.repeat(100_000) + ']'.repeat(100_000), 'bad_request'],
    ];
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const [what, frame, code, field] of cases) {
      const reply = await client.raw(frame, Buffer.isBuffer(frame));
      expect(reply.ok, what).toBe(false);
      if (reply.ok) continue;
      expect(reply.error.code, what).toBe(code);
      expect(reply.error.message.length, what).toBeGreaterThan(0);
      if (field) expect(reply.error.field, what).toBe(field);
    }
    expect((await client.call('app.info')).ok).toBe(true);
    expect((await bystander.call('services.list')).ok).toBe(true);
    await client.close();
    await bystander.close();
  });

  it('closes a connection that sends a frame far past the limit, and keeps serving others', async () => {
    const client = await connect(wsUrl);
    const closed = new Promise<number>((r) => client.ws.once('close', (code) => r(code)));
    client.ws.send('y'.repeat(MAX_REQUEST_BYTES * 16 + 1));
    expect(await closed).toBe(1009);
    const other = await connect(wsUrl);
    expect((await other.call('app.info')).ok).toBe(true);
    await other.close();
  });

  it('starts a real service and streams its state to subscribers', async () => {
    const client = await connect(wsUrl);
    const sub = await client.raw(
      JSON.stringify({ type: 'subscribe', id: 'sub-1', topics: ['service.state'] }),
    );
    expect(sub).toMatchObject({ ok: true, result: { topics: ['service.state'] } });

    const started = await client.call('services.start', { name: 'selfcheck' });
    expect(started).toMatchObject({ ok: true, result: { name: 'selfcheck' } });
    const isRunning = (f: { payload: unknown }) => (f.payload as ServiceInfo).state === 'running';
    await client.waitForEvent(isRunning);
    const running = client.events.find(isRunning)!.payload as ServiceInfo;
    expect(running.pid).toBeGreaterThan(0);
    expect((running.detail as { checks: { ok: boolean }[] }).checks.every((c) => c.ok)).toBe(true);

    const stopped = await client.call('services.stop', { name: 'selfcheck' });
    expect(stopped).toMatchObject({ ok: true, result: { state: 'stopped', pid: null } });
    expect(() => process.kill(running.pid!, 0)).toThrow();
    const states = client.events.map((e) => (e.payload as ServiceInfo).state);
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
    await client.close();
  });

  it('adds, controls and removes a service over the API, with typed errors for bad definitions', async () => {
    const client = await connect(wsUrl);
    const definition = {
      name: 'sleeper',
      kind: 'custom',
      program: { type: 'command', command: 'sleep', args: ['300'] },
      readiness: { type: 'uptime', uptimeMs: 200 },
    };
    const bad = await client.call('services.add', {
      definition: { ...definition, kind: 'trader', autostart: true },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', field: 'definition.autostart' } });
    const typo = await client.call('services.add', {
      definition: { ...definition, restart: { policy: 'sometimes' } },
    });
    expect(typo).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', field: 'definition.restart.policy' },
    });
    expect(await client.call('services.add', { definition })).toMatchObject({
      ok: true,
      result: { state: 'stopped' },
    });
    expect(await client.call('services.start', { name: 'sleeper' })).toMatchObject({ ok: true });
    let info: ServiceInfo | null = null;
    for (let i = 0; i < 100 && info?.state !== 'running'; i++) {
      const r = await client.call('services.get', { name: 'sleeper' });
      if (r.ok) info = r.result as ServiceInfo;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(info?.state).toBe('running');
    expect(await client.call('services.pause', { name: 'sleeper' })).toMatchObject({
      ok: true,
      result: { state: 'paused' },
    });
    expect(await client.call('services.acknowledge', { name: 'sleeper' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(await client.call('services.resume', { name: 'sleeper' })).toMatchObject({
      ok: true,
      result: { state: 'running' },
    });
    expect(await client.call('services.remove', { name: 'sleeper' })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(await client.call('services.stop', { name: 'sleeper' })).toMatchObject({
      ok: true,
      result: { state: 'stopped' },
    });
    const logs = await client.call('services.logs', { name: 'sleeper', lines: 20, stream: 'vigil' });
    expect(logs.ok && (logs.result as { text: string }[]).some((l) => /running → paused/.test(l.text))).toBe(
      true,
    );
    expect(await client.call('services.remove', { name: 'sleeper' })).toEqual({
      type: 'reply',
      id: expect.anything(),
      ok: true,
      result: { removed: 'sleeper' },
    });
    await client.close();
  });
});
