/**
 * /health and /metrics on the headless server over real sockets, under both protection choices:
 * /health open and /metrics behind the token (the defaults), and the other way round.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../src/main/core';
import { startHeadlessServer, type HeadlessServer } from '../../src/main/server/headless-server';
import type { OpsAuthMode } from '../../src/main/server/ops-routes';
import type { HealthReport } from '../../src/shared/health';
import { tempDir } from '../helpers/temp-dir';

const token = 'test-token-0123456789abcdef';
const out = resolve(import.meta.dirname, '../../out');
const dir = tempDir('vops-');
let core: Core;
const servers: HeadlessServer[] = [];

beforeAll(async () => {
  core = await createCore({
    mode: 'headless',
    dataDir: dir.path,
    servicesDir: resolve(out, 'services'),
    definitions: [],
    supervisor: { autostart: false },
  });
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await core?.close();
  dir.remove();
});

async function serve(health: OpsAuthMode, metrics: OpsAuthMode): Promise<string> {
  const server = await startHeadlessServer({
    host: '127.0.0.1',
    port: 0,
    token,
    rendererDir: resolve(out, 'renderer'),
    router: core.router,
    events: core.events,
    serverName: 'vigil test',
    ops: { observability: core.ops, health, metrics },
  });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

const auth = { Authorization: `Bearer ${token}` };

describe('/health and /metrics on the headless server', () => {
  it('by default: /health open to probes, /metrics only with the token', async () => {
    const base = await serve('open', 'token');
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(health.headers.get('cache-control')).toBe('no-store');
    const report = (await health.json()) as HealthReport;
    expect(report).toMatchObject({ status: 'healthy', mode: 'headless', market: 'live', services: [] });

    const refused = await fetch(`${base}/metrics`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="vigil"');
    expect((await fetch(`${base}/metrics?token=wrong`)).status).toBe(401);
    const metrics = await fetch(`${base}/metrics`, { headers: auth });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('vigil_health_status{status="healthy"} 1');
    expect((await fetch(`${base}/metrics?token=${token}`)).status).toBe(200);

    const head = await fetch(`${base}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${base}/health`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('the other way round: /health behind the token, /metrics open (the bind address protects it)', async () => {
    const base = await serve('token', 'open');
    expect((await fetch(`${base}/health`)).status).toBe(401);
    expect((await fetch(`${base}/health`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
