/** The service state machine, deterministic: a fake process layer and fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from '../../src/main/supervisor/backoff';
import { FailureWindow } from '../../src/main/supervisor/failure-window';
import {
  FAST_RESTART_MS,
  ServiceRunner,
  type ExitReport,
  type Launcher,
  type ProcessHandle,
} from '../../src/main/supervisor/service-runner';
import type { ParentMessage } from '../../src/shared/child-protocol';
import {
  resolveDefinition,
  type ServiceDefinition,
  type ServiceDefinitionInput,
} from '../../src/shared/service-definition';
import type { ServiceAlert, ServiceTransition } from '../../src/shared/services';

class FakeProcess implements ProcessHandle {
  static nextPid = 1000;
  readonly pid = FakeProcess.nextPid++;
  readonly sent: ParentMessage[] = [];
  readonly signals: string[] = [];
  killed = false;
  alive = true;
  /** What the fake does with the stop signal: exit on it, or ignore it. */
  onStopSignal: 'exit' | 'ignore' = 'exit';
  private readonly exited: Promise<void>;
  private markExited!: () => void;
  constructor(private readonly events: { onMessage(m: unknown): void; onExit(e: ExitReport): void }) {
    this.exited = new Promise((r) => (this.markExited = r));
  }

  say(message: unknown): void {
    this.events.onMessage(message);
  }
  exit(code: number | null, signal: string | null = null): void {
    if (!this.alive) return;
    this.alive = false;
    this.markExited();
    this.events.onExit({ code, signal });
  }
  send(message: ParentMessage): boolean {
    this.sent.push(message);
    // Like the SDK: the stop message ends the process, unless this fake plays deaf.
    if (message.type === 'stop' && this.onStopSignal === 'exit') queueMicrotask(() => this.exit(0));
    return true;
  }
  signal(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGTERM' && this.onStopSignal === 'exit')
      queueMicrotask(() => this.exit(null, 'SIGTERM'));
  }
  async waitUntilGone(timeoutMs: number): Promise<boolean> {
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, timeoutMs))]);
    return !this.alive;
  }
  async kill(): Promise<{ pid: number; command: string }[]> {
    this.killed = true;
    this.exit(null, 'SIGKILL');
    return [];
  }
}

class FakeLauncher implements Launcher {
  readonly processes: FakeProcess[] = [];
  launch(_def: ServiceDefinition, events: { onMessage(m: unknown): void; onExit(e: ExitReport): void }) {
    const p = new FakeProcess(events);
    this.processes.push(p);
    return p;
  }
  get last(): FakeProcess {
    return this.processes.at(-1)!;
  }
}

function definition(
  input: Partial<ServiceDefinitionInput> & Pick<ServiceDefinitionInput, 'kind'>,
): ServiceDefinition {
  const r = resolveDefinition({ name: 'svc', program: { type: 'builtin', name: 'x' }, ...input });
  if (!r.ok) throw new Error(r.error.message);
  return r.definition;
}

let launcher: FakeLauncher;
let transitions: ServiceTransition[];
let alerts: ServiceAlert[];
let probeOk: boolean;

function runner(def: ServiceDefinition): ServiceRunner {
  return new ServiceRunner(def, {
    launcher,
    prober: { check: async () => probeOk },
    hooks: { transition: (t) => transitions.push(t), alert: (a) => alerts.push(a) },
    random: () => 0.5, // no jitter
  });
}

const states = () => transitions.map((t) => t.to);
const tick = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-22T12:00:00Z') });
  launcher = new FakeLauncher();
  transitions = [];
  alerts = [];
  probeOk = true;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, with bounded jitter', () => {
    const p = { type: 'exponential', initialMs: 1000, factor: 2, capMs: 30_000, jitter: 0.2 } as const;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(p, n, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(backoffDelay(p, 1, () => 0)).toBe(800);
    expect(backoffDelay(p, 1, () => 1)).toBe(1200);
    expect(backoffDelay(p, 10, () => 1)).toBe(30_000); // jitter never exceeds the cap
  });

  it('follows an explicit step list, repeating the last step', () => {
    const p = { type: 'steps' as const, stepsMs: [0, 5000, 5000, 30000] };
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(p, n))).toEqual([0, 5000, 5000, 30000, 30000, 30000]);
  });
});

describe('failure window', () => {
  it('slides, and ignores failures from the future after the clock jumps back', () => {
    const w = new FailureWindow();
    expect(w.record(1000, 10_000)).toBe(1);
    expect(w.record(5000, 10_000)).toBe(2);
    expect(w.count(12_000, 10_000)).toBe(1);
    expect(w.count(16_000, 10_000)).toBe(0);
    w.record(20_000, 10_000);
    expect(w.record(2_000, 10_000)).toBe(1); // clock rolled back: the "future" failure is dropped
  });
});

describe('service runner', () => {
  it('starts, becomes ready on the ready message, and stops on request', async () => {
    const r = runner(definition({ kind: 'custom' }));
    await r.start();
    expect(r.current).toBe('starting');
    launcher.last.say({ type: 'ready', detail: { ok: true } });
    expect(r.info()).toMatchObject({ state: 'running', health: 'healthy', detail: { ok: true } });
    await r.stop();
    expect(launcher.last.sent[0]).toMatchObject({ type: 'stop' });
    expect(launcher.last.signals).toEqual([]); // it left on the stop message: no signal needed
    expect(states()).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(r.info().lastExit).toMatchObject({ code: 0 });
  });

  it('alerts when a collector writes market data gaps, at most once a minute, naming the streams', async () => {
    const r = runner(definition({ kind: 'collector' }));
    await r.start();
    launcher.last.say({ type: 'ready' });
    const gapAlerts = () => alerts.filter((x) => x.kind === 'data-gap');
    // Time passes with heartbeats, so the child stays the same run.
    const live = async (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        launcher.last.say({ type: 'heartbeat' });
        await tick(1000);
      }
    };
    const metrics = (values: Record<string, number>) => launcher.last.say({ type: 'metrics', values });
    metrics({ 'BTCUSDT.book.gaps': 0, 'BTCUSDT.book.msgPerSec': 10 });
    expect(gapAlerts()).toEqual([]);
    metrics({ 'BTCUSDT.book.gaps': 1, 'ETHUSDT.trade.gaps': 0 });
    expect(gapAlerts()).toMatchObject([
      { kind: 'data-gap', severity: 'warning', message: expect.stringMatching(/BTCUSDT\.book \+1$/) },
    ]);
    await live(10_000);
    metrics({ 'BTCUSDT.book.gaps': 3, 'ETHUSDT.trade.gaps': 1 }); // within the minute: held back
    expect(gapAlerts()).toHaveLength(1);
    await live(51_000);
    metrics({ 'BTCUSDT.book.gaps': 3, 'ETHUSDT.trade.gaps': 1 });
    expect(gapAlerts()).toHaveLength(2);
    expect(launcher.processes).toHaveLength(1);
    expect(gapAlerts()[1]!.message).toMatch(/BTCUSDT\.book \+2, ETHUSDT\.trade \+1$/);
    await live(61_000);
    metrics({ 'BTCUSDT.book.gaps': 3, 'ETHUSDT.trade.gaps': 1 }); // nothing new
    expect(gapAlerts()).toHaveLength(2);
  });

  it('counts a start timeout as a failed start', async () => {
    const r = runner(definition({ kind: 'custom', readiness: { type: 'message', timeoutMs: 2000 } }));
    await r.start();
    await tick(2000);
    await tick(0);
    expect(states()).toEqual(['starting', 'stopping', 'backoff']);
    expect(transitions[1]!.reason).toMatch(/start timeout: not ready within 2 s/);
    expect(r.info().failures).toBe(1);
    await tick(1000); // exponential: first restart after 1 s
    expect(r.current).toBe('starting');
    expect(launcher.processes).toHaveLength(2);
  });

  it('follows the collector plan — at once, 5 s, 5 s, then 30 s — and alerts on a crash loop but keeps going', async () => {
    const r = runner(definition({ kind: 'collector' }));
    await r.start();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      launcher.last.exit(1);
      const t = transitions.at(-1)!;
      expect(t.to).toBe('backoff');
      delays.push(t.nextRestartAt! - t.at);
      await tick(t.nextRestartAt! - t.at);
      expect(r.current).toBe('starting');
    }
    // The 5th failure within 5 min trips the rule: the remaining delays sit at the cap.
    expect(delays).toEqual([0, 5000, 5000, 30000, 30000, 30000]);
    expect(alerts.filter((a) => a.kind === 'crash-loop')).toHaveLength(1);
    expect(r.info()).toMatchObject({ crashLoop: true, restarts: 6 });
  });

  it('gives a trader up after 3 failures in 10 minutes until a person acknowledges', async () => {
    const r = runner(definition({ kind: 'trader' }));
    await r.start();
    for (let i = 0; i < 3; i++) {
      launcher.last.say({ type: 'ready' });
      launcher.last.exit(1);
      if (i < 2) await tick(transitions.at(-1)!.nextRestartAt! - Date.now());
    }
    expect(r.current).toBe('fatal');
    expect(r.info().reason).toMatch(/crash loop: 3 failures within 600 s/);
    expect(alerts.some((a) => a.kind === 'fatal')).toBe(true);
    await expect(r.start()).rejects.toMatchObject({ code: 'conflict' });
    await tick(3_600_000);
    expect(r.current).toBe('fatal'); // sticky: nothing restarts it
    await r.acknowledge();
    expect(r.current).toBe('stopped');
    await r.start();
    expect(r.current).toBe('starting');
  });

  it('goes fatal at once on exit 78 (configuration error)', async () => {
    const r = runner(definition({ kind: 'collector' }));
    await r.start();
    launcher.last.exit(78);
    expect(r.current).toBe('fatal');
    expect(r.info().reason).toMatch(/configuration error/);
  });

  it('honours success and no-restart exit codes and the policy', async () => {
    const onFailure = runner(definition({ kind: 'custom', restart: { noRestartExitCodes: [42] } }));
    await onFailure.start();
    launcher.last.say({ type: 'ready' });
    await tick(10_000);
    launcher.last.exit(0);
    expect(onFailure.current).toBe('stopped'); // clean exit after its minimum uptime: done
    await onFailure.start();
    launcher.last.exit(42);
    expect(onFailure.info()).toMatchObject({
      state: 'stopped',
      reason: 'exited with code 42 (a no-restart exit code)',
    });

    const always = runner(definition({ kind: 'custom', restart: { policy: 'always' } }));
    await always.start();
    launcher.last.say({ type: 'ready' });
    await tick(10_000);
    launcher.last.exit(0);
    expect(always.current).toBe('backoff');

    const never = runner(definition({ kind: 'custom', restart: { policy: 'never' } }));
    await never.start();
    launcher.last.exit(1);
    expect(never.current).toBe('stopped');
  });

  it('restarts a hung child (no heartbeat) at the heartbeat timeout', async () => {
    const r = runner(definition({ kind: 'custom', heartbeat: { intervalMs: 1000, timeoutMs: 5000 } }));
    await r.start();
    launcher.last.say({ type: 'ready' });
    for (let i = 0; i < 5; i++) {
      await tick(1000);
      launcher.last.say({ type: 'heartbeat', payload: { lastMarketMsgAt: Date.now() } });
    }
    expect(r.info().heartbeat).toHaveProperty('lastMarketMsgAt');
    const hungAt = Date.now();
    await tick(5000);
    await tick(0);
    const unresponsive = transitions.find((t) => t.health === 'unresponsive')!;
    expect(unresponsive.at - hungAt).toBe(5000);
    expect(r.current).toBe('backoff');
    expect(r.info().lastExit?.reason).toMatch(/heartbeat timeout/);
    expect(alerts.some((a) => a.kind === 'unresponsive')).toBe(true);
  });

  it('shows degraded from the child without restarting it', async () => {
    const r = runner(definition({ kind: 'collector' }));
    await r.start();
    launcher.last.say({ type: 'ready' });
    launcher.last.say({ type: 'status', health: 'degraded', message: 'exchange stream stale for 12 s' });
    expect(r.info()).toMatchObject({
      state: 'running',
      health: 'degraded',
      healthReason: 'exchange stream stale for 12 s',
    });
    launcher.last.say({ type: 'status', health: 'healthy' });
    expect(r.info().health).toBe('healthy');
    expect(launcher.processes).toHaveLength(1);
  });

  it('restarts after an HTTP probe fails its threshold', async () => {
    const r = runner(
      definition({
        kind: 'custom',
        heartbeat: null,
        probe: { url: 'http://127.0.0.1:9/health', intervalMs: 5000, timeoutMs: 2000, failureThreshold: 3 },
      }),
    );
    await r.start();
    launcher.last.say({ type: 'ready' });
    await tick(5000);
    expect(r.current).toBe('running'); // a passing probe changes nothing
    probeOk = false;
    await tick(15_000);
    expect(r.current).toBe('backoff');
    expect(r.info().lastExit?.reason).toMatch(/probe failed 3 times/);
  });

  it('warns once over the soft limit, restarts after 3 samples over the hard one, kills at 1.25 × hard', async () => {
    const MB = 1024 * 1024;
    const r = runner(
      definition({ kind: 'custom', heartbeat: null, memory: { softBytes: 100 * MB, hardBytes: 200 * MB } }),
    );
    await r.start();
    launcher.last.say({ type: 'ready' });
    r.onUsage({ cpuPercent: 1, rssBytes: 120 * MB });
    r.onUsage({ cpuPercent: 1, rssBytes: 130 * MB });
    expect(alerts.filter((a) => a.kind === 'memory-soft')).toHaveLength(1);
    r.onUsage({ cpuPercent: 1, rssBytes: 80 * MB }); // below 90 %: re-armed
    r.onUsage({ cpuPercent: 1, rssBytes: 120 * MB });
    expect(alerts.filter((a) => a.kind === 'memory-soft')).toHaveLength(2);

    r.onUsage({ cpuPercent: 1, rssBytes: 210 * MB });
    r.onUsage({ cpuPercent: 1, rssBytes: 220 * MB });
    expect(r.current).toBe('running');
    r.onUsage({ cpuPercent: 1, rssBytes: 230 * MB });
    await tick(0);
    expect(r.current).toBe('backoff');
    expect(r.info().lastExit?.reason).toMatch(/memory hard limit/);
    expect(launcher.processes[0]!.killed).toBe(false); // graceful

    await tick(2000);
    launcher.last.say({ type: 'ready' });
    r.onUsage({ cpuPercent: 1, rssBytes: 260 * MB });
    await tick(0);
    expect(launcher.processes[1]!.killed).toBe(true); // emergency: no grace
    expect(r.info().lastExit?.reason).toMatch(/memory emergency/);
  });

  it('resets the counter after a stable run and restarts a stable child fast', async () => {
    const r = runner(definition({ kind: 'custom', heartbeat: null }));
    await r.start();
    launcher.last.say({ type: 'ready' });
    launcher.last.exit(1); // early: a failure
    await tick(1000);
    launcher.last.say({ type: 'ready' });
    launcher.last.exit(1);
    expect(transitions.at(-1)!.nextRestartAt! - Date.now()).toBe(2000);
    await tick(2000);
    launcher.last.say({ type: 'ready' });
    await tick(60_000); // resetAfterMs of healthy running
    launcher.last.exit(1);
    expect(transitions.at(-1)!.nextRestartAt! - Date.now()).toBe(FAST_RESTART_MS);
  });

  it('is sticky when stopped: a stop during backoff cancels the restart', async () => {
    const r = runner(definition({ kind: 'collector' }));
    await r.start();
    launcher.last.exit(1);
    await tick(0);
    launcher.last.exit(1); // now waiting 5 s
    expect(r.current).toBe('backoff');
    await r.stop();
    await tick(60_000);
    expect(r.current).toBe('stopped');
    expect(launcher.processes).toHaveLength(2);
  });

  it('kills a child that ignores the stop signal after its stop timeout', async () => {
    const r = runner(definition({ kind: 'custom', stop: { timeoutMs: 3000 } }));
    await r.start();
    launcher.last.say({ type: 'ready' });
    launcher.last.onStopSignal = 'ignore';
    const stopping = r.stop();
    await tick(2900);
    expect(launcher.last.killed).toBe(false);
    await tick(200);
    await stopping;
    expect(launcher.last.killed).toBe(true);
    expect(r.info()).toMatchObject({ state: 'stopped', lastExit: { signal: 'SIGKILL' } });
  });

  it('killNow ends a stop under way at once (shutdown past its bound), and does nothing when stopped', async () => {
    const r = runner(definition({ kind: 'custom', stop: { timeoutMs: 60_000 } }));
    await r.killNow();
    await r.start();
    launcher.last.say({ type: 'ready' });
    launcher.last.onStopSignal = 'ignore';
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await tick(1000);
    expect(stopped).toBe(false);
    await r.killNow();
    await tick(0);
    await stopping;
    expect(launcher.last.killed).toBe(true);
    expect(r.info()).toMatchObject({ state: 'stopped', lastExit: { signal: 'SIGKILL' } });
    expect(Date.now() - transitions.find((t) => t.to === 'stopping')!.at).toBeLessThan(60_000);
  });

  it('manual restart starts from a clean slate', async () => {
    const r = runner(definition({ kind: 'collector' }));
    await r.start();
    for (let i = 0; i < 5; i++) {
      launcher.last.exit(1);
      await tick(30_000);
    }
    expect(r.info().crashLoop).toBe(true);
    const info = await r.restart();
    expect(info).toMatchObject({ crashLoop: false, failures: 0, state: 'starting' });
    expect(info.restarts).toBe(6);
  });

  it('pauses and resumes only from the right states', async () => {
    const r = runner(definition({ kind: 'custom' }));
    await expect(r.pause()).rejects.toMatchObject({ code: 'conflict' });
    await r.start();
    launcher.last.say({ type: 'ready' });
    await r.pause();
    expect(launcher.last.sent).toContainEqual({ type: 'pause' });
    expect(r.current).toBe('paused');
    await expect(r.pause()).rejects.toMatchObject({ code: 'conflict' });
    await r.resume();
    expect(r.current).toBe('running');
  });

  it('pauses a plain command with SIGSTOP and wakes it to stop it', async () => {
    const r = runner(
      definition({
        kind: 'custom',
        program: { type: 'command', command: 'sleep', args: ['100'] },
        protocol: 'none',
      }),
    );
    await r.start();
    await tick(1000); // readiness by uptime
    expect(r.current).toBe('running');
    await r.pause();
    expect(launcher.last.signals).toEqual(['SIGSTOP']);
    await r.stop();
    expect(launcher.last.signals).toEqual(['SIGSTOP', 'SIGTERM', 'SIGCONT']);
  });

  it('reloads a protocol child: reloading until it says ready again', async () => {
    const r = runner(definition({ kind: 'custom' }));
    await r.start();
    launcher.last.say({ type: 'ready' });
    await r.reload({ symbols: ['BTCUSDT'] });
    expect(launcher.last.sent).toContainEqual({ type: 'reload', config: { symbols: ['BTCUSDT'] } });
    expect(r.current).toBe('reloading');
    launcher.last.say({ type: 'ready' });
    expect(r.current).toBe('running');
    expect(launcher.processes).toHaveLength(1);
  });

  it('ignores junk from a child', async () => {
    const r = runner(definition({ kind: 'custom' }));
    await r.start();
    for (const junk of [null, 42, 'ready', { type: 'ready!' }, { type: 'status', health: 'fine' }])
      launcher.last.say(junk);
    expect(r.current).toBe('starting');
  });
});

describe('definitions', () => {
  it('refuses a trader that autostarts, naming the field', () => {
    const r = resolveDefinition({
      name: 't',
      kind: 'trader',
      program: { type: 'builtin', name: 'x' },
      autostart: true,
    });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error.issues[0]).toMatchObject({
        path: ['autostart'],
        message: expect.stringMatching(/never autostarts/),
      });
  });

  it('gives a plain command uptime readiness and no heartbeat', () => {
    const r = resolveDefinition({
      name: 'c',
      kind: 'custom',
      program: { type: 'command', command: 'sleep', args: ['1'] },
    });
    expect(r.ok && r.definition).toMatchObject({
      protocol: 'none',
      readiness: { type: 'uptime' },
      heartbeat: null,
    });
  });

  it.each([
    [
      {
        protocol: 'none',
        program: { type: 'command', command: 'x' },
        readiness: { type: 'message', timeoutMs: 1 },
      },
      'readiness.type',
    ],
    [{ memory: { softBytes: 200, hardBytes: 100 } }, 'memory.softBytes'],
    [{ heartbeat: { intervalMs: 5000, timeoutMs: 1000 } }, 'heartbeat.timeoutMs'],
    [{ dependsOn: ['svc'] }, 'dependsOn'],
    [{ env: { 'BAD-NAME': 'x' } }, 'env.BAD-NAME'],
    [{ restart: { policy: 'sometimes' } }, 'restart.policy'],
    [{ stop: { signal: 'SIGKILL' } }, 'stop.signal'],
    [{ probe: { url: 'ftp://x', intervalMs: 1, timeoutMs: 1, failureThreshold: 1 } }, 'probe.url'],
  ])('refuses %j at %s', (extra, field) => {
    const r = resolveDefinition({
      name: 'svc',
      kind: 'custom',
      program: { type: 'builtin', name: 'x' },
      ...extra,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.issues[0]!.path.join('.')).toBe(field);
  });
});
