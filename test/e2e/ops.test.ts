/**
 * The operator's interfaces against the real headless server in demo mode: /metrics passes
 * `promtool check metrics` (Debian's prometheus package), /health turns 503 when a service goes fatal
 * and 200 again when it recovers, and every `vigil` command works, including bad service names, a
 * refused or missing token, an unreachable server, declined confirmations and --json output.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReport } from '../../src/shared/health';
import type { EventRecord } from '../../src/shared/history';
import type { ServiceInfo } from '../../src/shared/services';
import type { Settings } from '../../src/shared/settings';
import { fixturePath } from '../helpers/process-fixtures';
import { connect, type TestClient } from '../helpers/ws-client';
import { startHeadless, type HeadlessServer } from './support/headless-server';
import { vigil, vigilRunning } from './support/vigil-cli';

const COLLECTORS = ['binance-spot', 'binance-usdm', 'okx-spot', 'okx-swap', 'deribit'];
let server: HeadlessServer;
let api: TestClient;
let env: { VIGIL_URL: string };

async function until<T>(check: () => Promise<T | undefined> | T | undefined, what: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${server.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function call<T>(command: string, input: unknown = {}): Promise<T> {
  const reply = await api.call(command, input);
  if (!reply.ok) throw new Error(`${command}: ${reply.error.message}`);
  return reply.result as T;
}

const get = (path: string, token?: string) =>
  fetch(`${server.origin}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  server = await startHeadless({ demo: true });
  api = await connect(`ws://127.0.0.1:${server.port}/api/ws?token=${encodeURIComponent(server.token)}`);
  env = { VIGIL_URL: server.url }; // the URL the server printed, token included
  await until(async () => {
    const list = await call<ServiceInfo[]>('services.list');
    return COLLECTORS.every((n) => list.find((s) => s.name === n)?.state === 'running') || undefined;
  }, 'the demo collectors running');
}, 90_000);

afterAll(async () => {
  await api?.close();
  await server?.stop();
});

describe('/metrics', () => {
  it(
    'passes promtool check metrics on the live output, and takes the token',
    { timeout: 90_000 },
    async () => {
      expect((await get('/metrics')).status).toBe(401);
      expect((await get('/metrics', 'not-the-token-at-all')).status).toBe(401);
      // Wait until every collector's streams and latency histograms are in it.
      const text = await until(async () => {
        const res = await get('/metrics', server.token);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        const body = await res.text();
        return COLLECTORS.every((c) => body.includes(`vigil_stream_latency_seconds_count{service="${c}"`))
          ? body
          : undefined;
      }, 'latency histograms of every collector');

      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      if (check.error)
        throw new Error(`promtool is needed (apt-get install prometheus): ${check.error.message}`);
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);

      for (const name of [
        'vigil_service_state{service="deribit",state="running"} 1',
        'vigil_stream_messages_total{service="binance-spot",venue="binance-spot",symbol="BTCUSDT",type="trade"}',
        'vigil_stream_gaps_total{service="okx-swap",venue="okx-swap",symbol="BTC-USDT-SWAP",type="book"}',
        'vigil_bus_messages_dropped_total{service="okx-spot"}',
        'vigil_bus_queue_depth_messages{service="binance-usdm",subscriber="vigil-supervisor"}',
        'vigil_collector_reconnects_total{service="deribit",venue="deribit"}',
        'vigil_info{version="0.1.0",mode="headless",market="demo"} 1',
      ])
        expect(text).toContain(name);
    },
  );
});

describe('/health', () => {
  it(
    'answers without a token, turns 503 when a service goes fatal and 200 when it recovers',
    { timeout: 90_000 },
    async () => {
      const health = async (): Promise<{ status: number; report: HealthReport }> => {
        const res = await get('/health');
        return { status: res.status, report: (await res.json()) as HealthReport };
      };
      const before = await until(async () => {
        const h = await health();
        return h.status === 200 ? h : undefined;
      }, '/health 200');
      expect(before.report).toMatchObject({ mode: 'headless', market: 'demo' });
      expect(['healthy', 'degraded']).toContain(before.report.status);
      const spot = before.report.services.find((s) => s.name === 'binance-spot')!;
      expect(spot).toMatchObject({ state: 'running', restarts: expect.any(Number), pid: expect.any(Number) });
      expect(spot.streams).toContainEqual(
        expect.objectContaining({ stream: 'BTCUSDT.trade', venue: 'binance-spot', gaps: expect.any(Number) }),
      );

      // A program that reports a configuration error (exit 78): the supervisor gives up on it at once.
      const definition = {
        name: 'ops-flaky',
        kind: 'custom',
        protocol: 'vigil',
        program: {
          type: 'command',
          command: process.execPath,
          args: [fixturePath, '--exit-after', '300', '--code', '78'],
        },
      };
      await call('services.add', { definition });
      await call('services.start', { name: 'ops-flaky' });
      const down = await until(async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      }, '/health 503');
      expect(down.report.status).toBe('unhealthy');
      expect(down.report.problems).toContainEqual({ service: 'ops-flaky', what: 'fatal (gave up)' });

      // Fixed, acknowledged and started again: healthy once more.
      await call('services.update', {
        name: 'ops-flaky',
        definition: { ...definition, program: { ...definition.program, args: [fixturePath] } },
      });
      await call('services.acknowledge', { name: 'ops-flaky' });
      await call('services.start', { name: 'ops-flaky' });
      const up = await until(async () => {
        const h = await health();
        const flaky = h.report.services.find((s) => s.name === 'ops-flaky');
        return h.status === 200 && flaky?.state === 'running' ? h : undefined;
      }, '/health 200 again');
      expect(up.report.problems.some((p) => p.service === 'ops-flaky')).toBe(false);
    },
  );
});

describe('the vigil command line', () => {
  it('shows the status as a table, or as JSON', async () => {
    const text = await vigil(['status'], { env });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/Vigil 0\.1\.0 · headless · demo market \(simulated\)/);
    expect(text.stdout).toMatch(
      /│ name +│ kind +│ state +│ health +│ pid +│ uptime +│ ↺ +│ cpu +│ memory +│/,
    );
    expect(text.stdout).toMatch(/│ deribit +│ collector +│ running +│/);
    const json = await vigil(['status', '--json'], { env });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      app: { demo: boolean };
      overall: { level: string };
      services: ServiceInfo[];
    };
    expect(parsed.app.demo).toBe(true);
    expect(parsed.services.map((s) => s.name)).toEqual(expect.arrayContaining(COLLECTORS));
  });

  it('stops, starts and restarts a service', { timeout: 60_000 }, async () => {
    const stopped = await vigil(['stop', 'okx-spot', '--json'], { env });
    expect(stopped.code).toBe(0);
    expect((JSON.parse(stopped.stdout) as ServiceInfo).state).toBe('stopped');
    const started = await vigil(['start', 'okx-spot'], { env });
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^okx-spot: (starting|running) \(pid \d+\)/);
    await until(async () => {
      const s = await call<ServiceInfo>('services.get', { name: 'okx-spot' });
      return s.state === 'running' || undefined;
    }, 'okx-spot running');
    const restarted = await vigil(['restart', 'okx-spot', '--json'], { env });
    expect(restarted.code).toBe(0);
    expect((JSON.parse(restarted.stdout) as ServiceInfo).restarts).toBeGreaterThan(0);
  });

  it('says clearly when a service does not exist or its name is malformed (exit 1)', async () => {
    for (const args of [
      ['stop', 'no-such'],
      ['restart', 'no-such'],
      ['logs', 'no-such'],
    ]) {
      const r = await vigil(args, { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('vigil: no service named "no-such"\n');
    }
    const bad = await vigil(['start', 'Bad_Name'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^vigil: "Bad_Name" is not a service name: it must be lower-case letters/);
  });

  it('tells a refused token (4), a missing one (4), no server (3) and a usage mistake (2) apart', async () => {
    const refused = await vigil(['status', '--token', 'not-the-token-at-all'], { env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/refused the token: check --token or VIGIL_TOKEN/);
    const missing = await vigil(['status'], { env: { VIGIL_URL: server.origin } });
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/wants a token: pass --token or set VIGIL_TOKEN/);
    // The token from the environment, the server from a flag.
    const fromEnv = await vigil(['status', '--url', server.origin], { env: { VIGIL_TOKEN: server.token } });
    expect(fromEnv.code).toBe(0);
    const nobody = await vigil(['status', '--url', 'http://127.0.0.1:1'], {
      env: { VIGIL_TOKEN: server.token },
    });
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toMatch(/cannot reach Vigil at http:\/\/127\.0\.0\.1:1: connection refused/);
    const usage = await vigil(['stat'], { env });
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(usage.stderr).toMatch(/unknown command "stat"/);
  });

  it('prints the last log lines, and follows new ones until interrupted', { timeout: 60_000 }, async () => {
    const last = await vigil(['logs', 'simulator', '-n', '3', '--json'], { env });
    expect(last.code).toBe(0);
    const lines = last.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; text: string });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));

    const follow = vigilRunning(['logs', 'okx-swap', '--follow', '-n', '1'], { env });
    await until(() => (follow.output().length > 0 ? true : undefined), 'the first line');
    expect((await vigil(['restart', 'okx-swap'], { env })).code).toBe(0);
    await until(
      () =>
        /running → stopping/.test(follow.output()) && /starting → running/.test(follow.output())
          ? true
          : undefined,
      'the restart in the followed log',
    );
    const ended = await follow.interrupt();
    expect(ended.code).toBe(0);
    expect(ended.stderr).toBe('');
  });

  it('lists events since a time, oldest first', async () => {
    const text = await vigil(['events', '--since', '10m', '--service', 'okx-swap'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/okx-swap: running → stopping: /);
    const json = await vigil(['events', '--since', '10m', '--json', '--limit', '500'], { env });
    const events = JSON.parse(json.stdout) as EventRecord[];
    expect(events.length).toBeGreaterThan(5);
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort((a, b) => a - b));
    const future = await vigil(['events', '--since', '2999-01-01'], { env });
    expect(future).toMatchObject({ code: 0, stdout: 'No events.\n' });
    expect((await vigil(['events', '--since', 'last tuesday'], { env })).code).toBe(2);
  });

  it(
    'exports and imports the configuration, listing the changes and asking first',
    { timeout: 60_000 },
    async () => {
      const yaml = await vigil(['config', 'export'], { env });
      expect(yaml.code).toBe(0);
      expect(yaml.stdout).toMatch(/^services:/m);
      const file = join(server.dataDir, 'exported.json');
      expect((await vigil(['config', 'export', '--format', 'json', '-o', file], { env })).code).toBe(0);
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { settings: Settings };
      const rawHours = doc.settings.retention.rawHours;
      doc.settings.retention.rawHours = rawHours + 24;
      writeFileSync(file, JSON.stringify(doc));

      const change = `~ settings.retention.rawHours: ${rawHours} → ${rawHours + 24}`;
      const dry = await vigil(['config', 'import', file, '--dry-run'], { env });
      expect(dry).toMatchObject({ code: 0 });
      expect(dry.stdout).toBe(`${change}\nDry run: 1 change, nothing applied.\n`);
      const no = await vigil(['config', 'import', file], { env, input: 'n\n' });
      expect(no.code).toBe(5);
      expect(no.stderr).toMatch(/Replace Vigil's configuration \(1 change\)\? \[y\/N\]/);
      expect(no.stderr).toMatch(/not confirmed: nothing was done/);
      expect((await call<Settings>('settings.get')).retention.rawHours).toBe(rawHours);
      const yes = await vigil(['config', 'import', file, '--yes'], { env });
      expect(yes).toMatchObject({ code: 0, stdout: `${change}\nApplied 1 change.\n` });
      expect((await call<Settings>('settings.get')).retention.rawHours).toBe(rawHours + 24);
      const again = await vigil(['config', 'import', '-', '--format', 'json'], {
        env,
        input: JSON.stringify(doc),
      });
      expect(again.stdout).toBe('The configuration is already this: nothing to change.\n');
      const missing = await vigil(['config', 'import', join(server.dataDir, 'nope.yaml')], { env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/cannot read .*nope\.yaml/);
    },
  );

  it(
    'starts and stops trading only when confirmed, naming the mode and symbols',
    { timeout: 60_000 },
    async () => {
      // The demo's own trader is set aside: this test adds the traders it needs.
      await call('services.remove', { name: 'trader' });
      const none = await vigil(['trade', 'start'], { env });
      expect(none).toMatchObject({ code: 1, stderr: 'vigil: no trader service is configured\n' });
      await call('services.add', {
        definition: {
          name: 'ops-trader',
          kind: 'trader',
          protocol: 'vigil',
          program: { type: 'command', command: process.execPath, args: [fixturePath] },
          config: { mode: 'paper', symbols: ['BTCUSDT', 'ETHUSDT'] },
        },
      });
      const state = async () => (await call<ServiceInfo>('services.get', { name: 'ops-trader' })).state;

      const declined = await vigil(['trade', 'start'], { env, input: 'n\n' });
      expect(declined.code).toBe(5);
      expect(declined.stderr).toMatch(
        /Start trading: ops-trader, mode paper, symbols BTCUSDT, ETHUSDT\? \[y\/N\]/,
      );
      const noAnswer = await vigil(['trade', 'start'], { env }); // stdin closed: a script without --yes
      expect(noAnswer.code).toBe(5);
      expect(await state()).toBe('stopped');

      const started = await vigil(['trade', 'start'], { env, input: 'y\n' });
      expect(started.code).toBe(0);
      expect(started.stdout).toMatch(/^ops-trader: (starting|running)/);
      await until(async () => ((await state()) === 'running' ? true : undefined), 'the trader running');
      const again = await vigil(['trade', 'start'], { env });
      expect(again).toMatchObject({ code: 0, stdout: 'ops-trader is already trading (running).\n' });

      const stopped = await vigil(['trade', 'stop', 'ops-trader', '--yes', '--json'], { env });
      expect(stopped.code).toBe(0);
      expect((JSON.parse(stopped.stdout) as ServiceInfo).state).toBe('stopped');
      const notTrader = await vigil(['trade', 'start', 'deribit', '--yes'], { env });
      expect(notTrader).toMatchObject({
        code: 1,
        stderr: 'vigil: deribit is a collector service, not a trader\n',
      });

      // `vigil start` of a trader: the core refuses it without --confirm naming the mode.
      const unconfirmed = await vigil(['start', 'ops-trader'], { env });
      expect(unconfirmed).toMatchObject({
        code: 5,
        stderr:
          'vigil: ops-trader trades on paper: to start it, a person confirms that with confirm: { mode: "paper" } ' +
          '(vigil start ops-trader --confirm paper)\n',
      });
      const wrong = await vigil(['start', 'ops-trader', '--confirm', 'live'], { env });
      expect(wrong.code).toBe(5);
      expect(await state()).toBe('stopped');
      const confirmed = await vigil(['start', 'ops-trader', '--confirm', 'paper'], { env });
      expect(confirmed.code).toBe(0);
      await until(async () => ((await state()) === 'running' ? true : undefined), 'the trader running');
      expect((await vigil(['stop', 'ops-trader'], { env })).code).toBe(0);

      // `vigil trader`: the built-in trader's state (never started: from its configuration).
      await call('services.add', {
        definition: {
          name: 'ops-paper',
          kind: 'trader',
          program: { type: 'builtin', name: 'trader' },
          config: { symbols: ['BTCUSDT'], equity: 5000, resolution: '1s' },
        },
      });
      const shown = await vigil(['trader', 'ops-paper'], { env });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^ops-paper · PAPER · not running · binance-spot 1s · ma-crossover v1/);
      expect(shown.stdout).toContain('equity 5,000.00 (from 5,000.00)');
      expect(shown.stdout).toContain('opening positions: allowed');
      expect(shown.stdout).toContain('positions: none (flat)');
      const json = await vigil(['trader', 'ops-paper', '--json'], { env });
      expect(JSON.parse(json.stdout)).toMatchObject({ service: 'ops-paper', running: false, positions: [] });
      const custom = await vigil(['trader', 'ops-trader'], { env });
      expect(custom.code).toBe(1);
      expect(custom.stderr).toMatch(/ops-trader runs its own program, not the built-in trader/);
      // Running on the simulated market: its live state.
      expect((await vigil(['start', 'ops-paper', '--confirm', 'paper'], { env })).code).toBe(0);
      const running = await until(async () => {
        const r = await vigil(['trader', 'ops-paper', '--json'], { env });
        const snapshot = JSON.parse(r.stdout) as { running: boolean; feeds: { bid: number | null }[] };
        return snapshot.running && snapshot.feeds[0]!.bid !== null ? true : undefined;
      }, 'ops-paper running on quotes');
      expect(running).toBe(true);
      expect((await vigil(['trader', 'ops-paper'], { env })).stdout).toMatch(
        /^ops-paper · PAPER · running · /,
      );
      expect((await vigil(['stop', 'ops-paper'], { env })).code).toBe(0);
    },
  );
});
