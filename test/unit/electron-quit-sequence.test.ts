/**
 * Quit safety with fake services and a fake clock: the stop order (traders first, then the exact
 * reverse of the start order), each phase's bound and the kill after it, the final check with the
 * OS, the question asked while a trader runs, the overall cap, and what the window's close button does.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  installQuitSequence,
  quitQuestion,
  STOP_AND_QUIT,
  tradingNow,
  type QuitSequenceDeps,
  type TradingSummary,
} from '../../src/main/electron/quit-sequence';
import { guardWindowClose, windowCloseAction } from '../../src/main/electron/window-close';
import {
  KILL_WAIT_MS,
  shutdownBudgetMs,
  shutdownPhases,
  STOP_MARGIN_MS,
  stopInOrder,
  type StoppableService,
} from '../../src/main/supervisor/shutdown';
import type { ServiceInfo, ServiceKind, ServiceState } from '../../src/shared/services';

/** What happened, in order: "stop:x", "stopped:x", "kill:x". */
let journal: string[];

interface FakeService extends StoppableService {
  /** Ends the pending stop (a stop that "hangs" is simply never finished). */
  finishStop(): void;
  gone: boolean;
}

/**
 * A service whose stop takes `stopMs` on the fake clock (never: null), and whose tree is gone once
 * its stop finished or it was killed (unless `survives`).
 */
function service(
  name: string,
  opts: {
    kind?: ServiceKind;
    state?: ServiceState;
    stopTimeoutMs?: number;
    stopMs?: number | null;
    killHangs?: boolean;
    survives?: boolean;
    goneAfterStop?: boolean;
  } = {},
): FakeService {
  let finish: () => void = () => undefined;
  const s: FakeService = {
    name,
    kind: opts.kind ?? 'collector',
    state: opts.state ?? 'running',
    stopTimeoutMs: opts.stopTimeoutMs ?? 1000,
    gone: opts.state === 'stopped' || opts.state === 'fatal',
    stop: () => {
      journal.push(`stop:${name}`);
      return new Promise<void>((resolve) => {
        finish = () => {
          if (!journal.includes(`stopped:${name}`)) journal.push(`stopped:${name}`);
          if (opts.goneAfterStop ?? true) s.gone = !opts.survives;
          resolve();
        };
        if (opts.stopMs !== null) setTimeout(finish, opts.stopMs ?? 10);
      });
    },
    kill: () => {
      journal.push(`kill:${name}`);
      if (opts.killHangs) return new Promise<void>(() => undefined);
      s.gone = !opts.survives;
      return Promise.resolve();
    },
    isGone: () => Promise.resolve(s.gone),
    finishStop: () => finish(),
  };
  return s;
}

beforeEach(() => {
  journal = [];
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

/** Runs stopInOrder on the fake clock to its end; returns the report and the fake time it took. */
async function run(services: StoppableService[]) {
  const started = Date.now();
  let report: Awaited<ReturnType<typeof stopInOrder>> | null = null;
  const log = vi.fn();
  void stopInOrder(services, log).then((r) => (report = r));
  while (report === null) await vi.advanceTimersByTimeAsync(5);
  return { report: report as Awaited<ReturnType<typeof stopInOrder>>, tookMs: Date.now() - started, log };
}

describe('the stop order', () => {
  it('traders first, together; then the rest in the exact reverse of the start order', async () => {
    // Start order as the supervisor starts them: feed, then signals (needs feed), then the traders
    // (need signals), and book (needs feed) last.
    const services = [
      service('feed'),
      service('signals', { kind: 'optimizer' }),
      service('alpha', { kind: 'trader' }),
      service('beta', { kind: 'trader' }),
      service('book', { kind: 'custom' }),
    ];
    expect(shutdownPhases(services).map((p) => p.services.map((s) => s.name))).toEqual([
      ['alpha', 'beta'],
      ['book'],
      ['signals'],
      ['feed'],
    ]);
    const { report } = await run(services);
    expect(report).toEqual({
      order: [['alpha', 'beta'], ['book'], ['signals'], ['feed']],
      overran: [],
      survivors: [],
    });
    // Each phase ends before the next begins.
    expect(journal).toEqual([
      'stop:alpha',
      'stop:beta',
      'stopped:alpha',
      'stopped:beta',
      'stop:book',
      'stopped:book',
      'stop:signals',
      'stopped:signals',
      'stop:feed',
      'stopped:feed',
    ]);
  });

  it('leaves out what has nothing to stop, and stops a service waiting to restart', async () => {
    const services = [
      service('feed', { state: 'stopped' }),
      service('broken', { state: 'fatal' }),
      service('flaky', { state: 'backoff' }),
      service('idle-trader', { kind: 'trader', state: 'stopped' }),
      service('paused', { state: 'paused' }),
    ];
    const { report } = await run(services);
    expect(report.order).toEqual([['paused'], ['flaky']]);
    expect(journal.filter((j) => j.startsWith('stop:'))).toEqual(['stop:paused', 'stop:flaky']);
  });

  it('does nothing when nothing runs', async () => {
    const { report, tookMs } = await run([service('a', { state: 'stopped' })]);
    expect(report).toEqual({ order: [], overran: [], survivors: [] });
    expect(tookMs).toBeLessThan(10);
  });
});

describe('the bounds', () => {
  it("a phase's budget is its longest stop timeout plus the margin for the service's own escalation", () => {
    const phases = shutdownPhases([
      service('feed', { stopTimeoutMs: 10_000 }),
      service('t1', { kind: 'trader', stopTimeoutMs: 30_000 }),
      service('t2', { kind: 'trader', stopTimeoutMs: 5_000 }),
    ]);
    expect(phases.map((p) => p.budgetMs)).toEqual([30_000 + STOP_MARGIN_MS, 10_000 + STOP_MARGIN_MS]);
  });

  it('a stop that overruns its budget has its tree killed, and the next phase waits only that long', async () => {
    const trader = service('trader', { kind: 'trader', stopTimeoutMs: 2000, stopMs: null });
    const feed = service('feed', { stopTimeoutMs: 1000 });
    const startedAt = Date.now();
    let feedStopAt = 0;
    const stop = feed.stop;
    feed.stop = () => {
      feedStopAt = Date.now() - startedAt;
      return stop();
    };
    const { report, log } = await run([feed, trader]);
    expect(report).toEqual({ order: [['trader'], ['feed']], overran: ['trader'], survivors: [] });
    expect(journal).toEqual(['stop:trader', 'kill:trader', 'stop:feed', 'stopped:feed']);
    // Killed at the budget, not before; the next phase right after the kill.
    expect(feedStopAt).toBe(2000 + STOP_MARGIN_MS);
    expect(log).not.toHaveBeenCalled();
  });

  it('a kill that hangs is given up on after its wait; the rest still stops', async () => {
    const stuck = service('stuck', { stopMs: null, killHangs: true, stopTimeoutMs: 500 });
    const feed = service('feed');
    const { report, tookMs } = await run([feed, stuck]);
    expect(report.order).toEqual([['stuck'], ['feed']]);
    expect(report.overran).toEqual(['stuck']);
    // Its tree is still there: the final check kills once more, then reports it.
    expect(report.survivors).toEqual(['stuck']);
    expect(journal.filter((j) => j === 'kill:stuck')).toHaveLength(2);
    expect(journal).toContain('stopped:feed');
    expect(tookMs).toBeLessThanOrEqual(shutdownBudgetMs([feed, stuck]));
  });

  it('never takes longer than the budget it announces, however everything hangs', async () => {
    const services = [
      service('feed', { stopMs: null, killHangs: true }),
      service('trader', { kind: 'trader', stopMs: null, killHangs: true, stopTimeoutMs: 3000 }),
    ];
    const budget = shutdownBudgetMs(services);
    const { report, tookMs } = await run(services);
    expect(report.survivors).toEqual(['feed', 'trader']);
    expect(tookMs).toBeLessThanOrEqual(budget);
    expect(budget).toBe(
      3000 + STOP_MARGIN_MS + KILL_WAIT_MS + 1000 + STOP_MARGIN_MS + KILL_WAIT_MS + 3 * KILL_WAIT_MS,
    );
  });

  it('resolves only once every tree is confirmed gone: a stop that left processes behind is killed', async () => {
    const leaky = service('leaky', { goneAfterStop: false });
    const idle = service('idle', { state: 'stopped' });
    // A tree the OS still shows although the service counts as stopped (started behind the plan's back).
    idle.gone = false;
    const { report } = await run([leaky, idle]);
    expect(journal).toEqual(['stop:leaky', 'stopped:leaky', 'kill:leaky', 'kill:idle']);
    expect(report.survivors).toEqual([]);
    expect(leaky.gone && idle.gone).toBe(true);
  });

  it('a stop or a check that fails counts as not done: the tree is checked and killed', async () => {
    const broken = service('broken');
    broken.stop = () => Promise.reject(new Error('queue broken'));
    broken.isGone = vi.fn().mockRejectedValueOnce(new Error('no /proc')).mockResolvedValue(true);
    const { report, log } = await run([broken]);
    expect(report.survivors).toEqual([]);
    expect(journal).toEqual(['kill:broken']);
    expect(log).toHaveBeenCalledWith('[shutdown] stopping broken failed:', expect.any(Error));
  });
});

// ---- the quit sequence ----

/** An app whose quit() emits before-quit and, unless prevented, records that it quit. */
class FakeApp extends EventEmitter {
  quitted = 0;
  quit(): void {
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.quitted++;
  }
}

function info(
  name: string,
  kind: ServiceKind,
  state: ServiceState,
  config: Record<string, unknown> | null = null,
  builtin = false,
): ServiceInfo {
  const program = builtin ? { type: 'builtin', name: 'trader' } : { type: 'command', command: 'x', args: [] };
  return { name, kind, state, definition: { name, kind, program, config } } as unknown as ServiceInfo;
}

function sequence(services: ServiceInfo[], overrides: Partial<QuitSequenceDeps> = {}) {
  const app = new FakeApp();
  let finish!: () => void;
  const deps = {
    app,
    services: () => services,
    confirm: vi.fn((_t: TradingSummary) => Promise.resolve(true)),
    shutdown: vi.fn(() => new Promise<void>((resolve) => (finish = resolve))),
    capMs: () => 60_000,
    onStopping: vi.fn(),
    log: vi.fn(),
    ...overrides,
  };
  const quit = installQuitSequence(deps);
  return { app, deps, quit, finish: () => finish() };
}

describe('quitting', () => {
  it('without a trader: stops at once, quits only when the shutdown is done; another quit adds nothing', async () => {
    const { app, deps, quit, finish } = sequence([info('feed', 'collector', 'running')]);
    app.quit();
    expect(deps.confirm).not.toHaveBeenCalled();
    expect(quit.phase).toBe('stopping');
    expect(deps.onStopping).toHaveBeenCalledOnce();
    expect(deps.shutdown).toHaveBeenCalledOnce();
    expect(app.quitted).toBe(0);
    app.quit(); // Cmd+Q again while services stop: held, nothing repeated
    expect(deps.shutdown).toHaveBeenCalledOnce();
    expect(app.quitted).toBe(0);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(quit.phase).toBe('done');
    expect(app.quitted).toBe(1);
    expect(deps.log).not.toHaveBeenCalled();
  });

  it('while a trader runs: asks first, naming the mode and the symbols; Cancel keeps everything running', async () => {
    const services = [
      info('feed', 'collector', 'running'),
      info('alpha', 'trader', 'running', { mode: 'live', symbols: ['BTCUSDT', 'ETHUSDT'] }),
      info('idle', 'trader', 'stopped', { mode: 'live', symbols: ['XRPUSDT'] }),
    ];
    let answer!: (yes: boolean) => void;
    const confirm = vi.fn(() => new Promise<boolean>((resolve) => (answer = resolve)));
    const { app, deps, quit } = sequence(services, { confirm });
    app.quit();
    expect(quit.phase).toBe('asking');
    expect(confirm).toHaveBeenCalledWith({
      traders: ['alpha'],
      mode: 'live',
      symbols: ['BTCUSDT', 'ETHUSDT'],
    });
    app.quit(); // a second quit while the question is open: no second question
    expect(confirm).toHaveBeenCalledOnce();
    answer(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(quit.phase).toBe('running');
    expect(deps.shutdown).not.toHaveBeenCalled();
    expect(app.quitted).toBe(0);

    // Asked again next time; agreeing stops and then quits.
    app.quit();
    expect(confirm).toHaveBeenCalledTimes(2);
    answer(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(quit.phase).toBe('stopping');
    expect(deps.shutdown).toHaveBeenCalledOnce();
  });

  it('a question that fails is not a yes', async () => {
    const { app, deps, quit } = sequence([info('t', 'trader', 'starting')], {
      confirm: () => Promise.reject(new Error('no display')),
    });
    app.quit();
    await vi.advanceTimersByTimeAsync(0);
    expect(quit.phase).toBe('running');
    expect(deps.shutdown).not.toHaveBeenCalled();
    expect(deps.log).toHaveBeenCalledOnce();
  });

  it('never hangs: past the cap the app quits anyway, and says so', async () => {
    const { app, deps, quit } = sequence([info('feed', 'collector', 'running')], { capMs: () => 45_000 });
    app.quit();
    await vi.advanceTimersByTimeAsync(44_999);
    expect(app.quitted).toBe(0);
    expect(quit.phase).toBe('stopping');
    await vi.advanceTimersByTimeAsync(1);
    expect(app.quitted).toBe(1);
    expect(deps.log).toHaveBeenCalledWith('[app] the services did not stop within 45000 ms; quitting anyway');
  });

  it('quits even when the shutdown fails, and says so', async () => {
    const { app, deps } = sequence([], { shutdown: () => Promise.reject(new Error('stuck')) });
    app.quit();
    await vi.advanceTimersByTimeAsync(0);
    expect(app.quitted).toBe(1);
    expect(deps.log).toHaveBeenCalledWith('[app] shutdown failed; quitting anyway:', expect.any(Error));
  });
});

describe('what is trading, and the question', () => {
  it('counts a trader that runs, starts, pauses, reloads or waits to restart', () => {
    for (const state of ['running', 'starting', 'paused', 'reloading', 'backoff'] as const) {
      expect(tradingNow([info('t', 'trader', state)])?.traders).toEqual(['t']);
    }
    for (const state of ['stopped', 'stopping', 'fatal'] as const) {
      expect(tradingNow([info('t', 'trader', state)])).toBeNull();
    }
    expect(tradingNow([info('c', 'collector', 'running')])).toBeNull();
  });

  it('live wins over unknown over paper; a built-in trader without a mode trades on paper', () => {
    const paper = info('p', 'trader', 'running', null, true);
    const custom = info('c', 'trader', 'running', { symbols: 'SOLUSDT' });
    const live = info('l', 'trader', 'running', { mode: ' LIVE ', symbols: ['BTCUSDT', 'SOLUSDT', 7] });
    expect(tradingNow([paper])).toEqual({ traders: ['p'], mode: 'paper', symbols: [] });
    expect(tradingNow([paper, custom])).toMatchObject({ mode: 'unknown', symbols: ['SOLUSDT'] });
    expect(tradingNow([paper, custom, live])).toEqual({
      traders: ['p', 'c', 'l'],
      mode: 'live',
      symbols: ['SOLUSDT', 'BTCUSDT'],
    });
    expect(tradingNow([info('x', 'trader', 'running', { mode: 'sim' })])?.mode).toBe('unknown');
  });

  it('names the mode in capitals and the symbols; Cancel is the default', () => {
    const q = quitQuestion({ traders: ['alpha'], mode: 'live', symbols: ['BTCUSDT', 'ETHUSDT'] });
    expect(q.message).toBe('alpha is trading in LIVE mode.');
    expect(q.detail).toMatch(/^Symbols: BTCUSDT, ETHUSDT\./);
    expect(q.buttons[STOP_AND_QUIT]).toBe('Stop trading and quit');
    expect(q.buttons[q.cancelId]).toBe('Cancel');
    expect(q.defaultId).toBe(q.cancelId);
    const two = quitQuestion({ traders: ['a', 'b'], mode: 'paper', symbols: [] });
    expect(two.message).toBe('a, b are trading in PAPER mode.');
    expect(two.detail).toMatch(/^Symbols: not named in the configuration\./);
    expect(quitQuestion({ traders: ['c'], mode: 'unknown', symbols: [] }).message).toMatch(/UNKNOWN mode/);
  });
});

describe("the window's close button", () => {
  it('hides to the tray, quits, or closes, by the setting, the quit and the platform', () => {
    expect(windowCloseAction(true, 'running', 'linux')).toBe('hide');
    expect(windowCloseAction(true, 'running', 'darwin')).toBe('hide');
    expect(windowCloseAction(false, 'running', 'linux')).toBe('quit');
    expect(windowCloseAction(false, 'running', 'win32')).toBe('quit');
    expect(windowCloseAction(false, 'running', 'darwin')).toBe('close');
    // Quitting: the window stays while the question is open and the services stop, then closes.
    for (const closeToTray of [true, false]) {
      expect(windowCloseAction(closeToTray, 'asking', 'linux')).toBe('keep');
      expect(windowCloseAction(closeToTray, 'stopping', 'linux')).toBe('keep');
      expect(windowCloseAction(closeToTray, 'done', 'linux')).toBe('close');
    }
  });

  it('follows the setting at each close, and is not destroyed before the quit is done', async () => {
    vi.useRealTimers();
    const window = Object.assign(new EventEmitter(), { hide: vi.fn() });
    const close = (): boolean => {
      let prevented = false;
      window.emit('close', { preventDefault: () => (prevented = true) });
      return !prevented;
    };
    let closeToTray = true;
    const { app, quit, finish } = sequence([info('feed', 'collector', 'running')]);
    const startQuit = vi.fn(() => app.quit());
    guardWindowClose(window, {
      closeToTray: () => closeToTray,
      quitPhase: () => quit.phase,
      platform: 'linux',
      quit: startQuit,
    });
    expect(close()).toBe(false);
    expect(window.hide).toHaveBeenCalledOnce();
    closeToTray = false;
    expect(close()).toBe(false); // held: the quit sequence runs first
    expect(startQuit).toHaveBeenCalledOnce();
    expect(quit.phase).toBe('stopping');
    expect(close()).toBe(false);
    expect(startQuit).toHaveBeenCalledOnce();
    finish();
    await vi.waitFor(() => expect(quit.phase).toBe('done'));
    expect(close()).toBe(true);
    expect(window.hide).toHaveBeenCalledOnce();
  });
});
