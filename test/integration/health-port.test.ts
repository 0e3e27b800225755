/**
 * The local health port over real sockets: off while settings.ports.health is null, bound to loopback
 * when set, rebound when the setting changes, /health's status code following the report, a token
 * when one is configured, DNS-rebinding Host headers refused, and a port in use reported, not thrown.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import type { Observability } from '../../src/main/api/observability';
import { followHealthPort, type HealthPort } from '../../src/main/server/health-port';
import type { HealthReport, HealthStatus } from '../../src/shared/health';
import { defaultSettings, type Settings } from '../../src/shared/settings';

const open: HealthPort[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function rig(health: number | null, token: string | null = null) {
  const events = new EventHub();
  let settings: Settings = { ...defaultSettings(), ports: { headless: 7420, health } };
  let status: HealthStatus = 'healthy';
  const ops: Observability = {
    health: () => ({ status, services: [] }) as unknown as HealthReport,
    metrics: async () => '# HELP vigil_up Up\n# TYPE vigil_up gauge\nvigil_up 1\n',
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
  };
  const warnings: string[] = [];
  const port = followHealthPort({
    events,
    settings: () => settings,
    ops,
    token,
    warn: (m) => warnings.push(m),
  });
  open.push(port);
  return {
    port,
    warnings,
    setStatus: (s: HealthStatus) => (status = s),
    setPort: async (p: number | null) => {
      settings = { ...settings, ports: { headless: 7420, health: p } };
      events.emit('config.changed', { services: 0, settings });
      await port.settled();
    },
  };
}

describe('the local health port', () => {
  it('is off until set, then serves /health and /metrics on loopback, and follows the setting', async () => {
    const r = rig(null);
    await r.port.settled();
    expect(r.port.port).toBeNull();

    const first = await freePort();
    await r.setPort(first);
    expect(r.port.port).toBe(first);
    const health = await get(first, '/health');
    expect(health).toMatchObject({ status: 200, type: 'application/json; charset=utf-8' });
    expect(JSON.parse(health.body)).toMatchObject({ status: 'healthy' });
    expect(await get(first, '/metrics')).toMatchObject({
      status: 200,
      body: expect.stringContaining('vigil_up 1'),
    });
    expect((await get(first, '/')).status).toBe(404);

    r.setStatus('degraded');
    expect((await get(first, '/health')).status).toBe(200);
    r.setStatus('unhealthy');
    expect((await get(first, '/health')).status).toBe(503);

    const second = await freePort();
    await r.setPort(second);
    expect((await get(second, '/health')).status).toBe(503);
    await expect(get(first, '/health')).rejects.toThrow(/ECONNREFUSED/);

    await r.setPort(null);
    expect(r.port.port).toBeNull();
    await expect(get(second, '/health')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a Host that is not loopback (DNS rebinding)', async () => {
    const r = rig(await freePort());
    await r.port.settled();
    expect((await get(r.port.port!, '/health', { Host: 'evil.example:80' })).status).toBe(421);
  });

  it('asks for the token when one is configured', async () => {
    const r = rig(await freePort(), 'a-token-of-sixteen-chars');
    await r.port.settled();
    const p = r.port.port!;
    expect((await get(p, '/metrics')).status).toBe(401);
    expect((await get(p, '/health', { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(p, '/metrics', { Authorization: 'Bearer a-token-of-sixteen-chars' })).status).toBe(200);
    expect((await get(p, '/health?token=a-token-of-sixteen-chars')).status).toBe(200);
  });

  it('reports a port in use and stays off, without failing Vigil', async () => {
    const busy = createServer();
    await new Promise<void>((res) => busy.listen(0, '127.0.0.1', res));
    const taken = (busy.address() as { port: number }).port;
    try {
      const r = rig(taken);
      await r.port.settled();
      expect(r.port.port).toBeNull();
      expect(r.warnings).toEqual([expect.stringMatching(new RegExp(`health port ${taken} .*in use`))]);
    } finally {
      await new Promise<void>((res) => busy.close(() => res()));
    }
  });
});
