/**
 * One service's state machine (reference/supervision.md c1–c7): start, readiness, health, memory
 * limits, graceful stop, restart with backoff, crash-loop rule. It decides; the process layer it is
 * given does. Tests drive it with a fake process layer and fake timers.
 */
import {
  childMessageSchema,
  EXIT_CONFIG_ERROR,
  type BusSubscriberReport,
  type ChildEvent,
  type ChildReply,
  type ParentMessage,
} from '../../shared/child-protocol';
import { ApiError } from '../../shared/errors';
import type { ServiceDefinition } from '../../shared/service-definition';
import type {
  ServiceAlert,
  ServiceExit,
  ServiceHealth,
  ServiceInfo,
  ServiceState,
  ServiceTransition,
} from '../../shared/services';
import { backoffCap, backoffDelay } from './backoff';
import { FailureWindow } from './failure-window';

export interface ExitReport {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all. */
  error?: string;
}

/** A launched process, as the runner sees it. */
export interface ProcessHandle {
  readonly pid: number | null;
  /** Sends a protocol message; false if there is no channel (plain command, or already gone). */
  send(message: ParentMessage): boolean;
  /** Signals the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** True once no process of the tree remains; false if some still do after `timeoutMs`. */
  waitUntilGone(timeoutMs: number): Promise<boolean>;
  /** SIGKILL to the group and every known descendant; resolves with whatever survived. */
  kill(): Promise<{ pid: number; command: string }[]>;
  /** Refreshes the list of the tree's processes before a stop, so escapees are reached too. */
  snapshot?(): Promise<void>;
}

export interface Launcher {
  launch(
    def: ServiceDefinition,
    events: { onMessage(message: unknown): void; onExit(exit: ExitReport): void },
  ): ProcessHandle;
}

export interface Prober {
  /** One HTTP GET; true for a 2xx answer within the timeout. */
  check(url: string, timeoutMs: number): Promise<boolean>;
}

export interface RunnerHooks {
  transition(transition: ServiceTransition, info: ServiceInfo): void;
  alert(alert: ServiceAlert): void;
  /** Anything else changed that a live view shows (heartbeat, metrics, usage). */
  changed?(info: ServiceInfo): void;
  /** The condition behind alerts of this kind is over (a person may still acknowledge them). */
  cleared?(service: string, kind: ServiceAlert['kind'], reason: string): void;
  /** A reply to a request, or an event, from the current run's child (whatever the state). */
  child?(service: string, message: ChildReply | ChildEvent): void;
}

export interface RunnerDeps {
  launcher: Launcher;
  prober: Prober;
  hooks: RunnerHooks;
  random?: () => number;
}

/** A service that was ready and stable restarts this fast after a crash (s6, Kubernetes). */
export const FAST_RESTART_MS = 250;
/** How long a protocol child has to act on the stop message before the stop signal follows. */
export const PROTOCOL_STOP_GRACE_MS = 2000;
const MAX_RECENT_EXITS = 20;

interface Run {
  handle: ProcessHandle;
  exit: ExitReport | null;
  exited: Promise<ExitReport>;
  resolveExit: (exit: ExitReport) => void;
}

type TimerName = 'start' | 'ready' | 'heartbeat' | 'probe' | 'reset' | 'backoff';

/** At most one data-gap alert per service in this window. */
const GAP_ALERT_INTERVAL_MS = 60_000;

export class ServiceRunner {
  private def: ServiceDefinition;
  private readonly deps: RunnerDeps;
  private state: ServiceState = 'stopped';
  private health: ServiceHealth | null = null;
  private healthReason: string | null = null;
  private run: Run | null = null;
  private startedAt: number | null = null;
  private readyAt: number | null = null;
  private restarts = 0;
  /** Restarts since the counter was last reset: picks the backoff delay. */
  private attempt = 0;
  private stable = false;
  private readonly failures = new FailureWindow();
  private crashLoop = false;
  private nextRestartAt: number | null = null;
  private lastExit: ServiceExit | null = null;
  private recentExits: ServiceExit[] = [];
  private reason: string | null = null;
  private lastHeartbeatAt: number | null = null;
  private heartbeat: Record<string, unknown> | null = null;
  private metrics: Record<string, number> | null = null;
  /** Per stream, the gap count of this run already told (collectors report `<stream>.gaps`). */
  private gapsTold = new Map<string, number>();
  private lastGapAlertAt = 0;
  private bus: BusSubscriberReport[] | null = null;
  private cpuPercent: number | null = null;
  private rssBytes: number | null = null;
  private detail: unknown = null;
  private pendingChanges = false;
  private hardSamples = 0;
  private softWarned = false;
  private probeFailures = 0;
  private stopping = false;
  private readonly timers = new Map<TimerName, ReturnType<typeof setTimeout>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new Set<() => void>();

  constructor(def: ServiceDefinition, deps: RunnerDeps) {
    this.def = def;
    this.deps = deps;
  }

  get name(): string {
    return this.def.name;
  }

  get definition(): ServiceDefinition {
    return this.def;
  }

  get current(): ServiceState {
    return this.state;
  }

  /** The root pid while a process exists (for sampling and the state file). */
  get pid(): number | null {
    // handle is unset for the instant between creating a run and the launcher returning
    return (this.run?.handle as ProcessHandle | undefined)?.pid ?? null;
  }

  info(): ServiceInfo {
    const d = this.def;
    return {
      name: d.name,
      kind: d.kind,
      description: d.description,
      program: d.program,
      autostart: d.autostart,
      definition: d,
      pendingChanges: this.pendingChanges,
      state: this.state,
      health: this.health,
      healthReason: this.healthReason,
      pid: this.pid,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      restarts: this.restarts,
      failures: this.failures.count(Date.now(), d.restart.crashLoop.windowMs),
      crashLoop: this.crashLoop,
      nextRestartAt: this.nextRestartAt,
      lastExit: this.lastExit,
      recentExits: this.recentExits,
      reason: this.reason,
      lastHeartbeatAt: this.lastHeartbeatAt,
      heartbeat: this.heartbeat,
      metrics: this.metrics,
      bus: this.bus,
      cpuPercent: this.cpuPercent,
      rssBytes: this.rssBytes,
      detail: this.detail,
    };
  }

  // ---- requests (serialized: concurrent requests never interleave) ----

  start(reason = 'started by request'): Promise<ServiceInfo> {
    return this.serialize(async () => {
      if (this.state === 'fatal') {
        throw new ApiError(
          'conflict',
          `${this.name} is fatal (${this.reason}): acknowledge it before starting`,
        );
      }
      if (this.state === 'backoff') {
        this.clearTimer('backoff');
        this.attempt = 0;
      }
      if (this.state === 'stopped' || this.state === 'backoff') this.launch(reason);
      return this.info();
    });
  }

  stop(reason = 'stopped by request'): Promise<ServiceInfo> {
    return this.serialize(async () => {
      await this.halt(reason);
      return this.info();
    });
  }

  restart(reason = 'restarted by request'): Promise<ServiceInfo> {
    return this.serialize(async () => {
      if (this.state === 'fatal') {
        throw new ApiError(
          'conflict',
          `${this.name} is fatal (${this.reason}): acknowledge it before restarting`,
        );
      }
      await this.halt(reason);
      // A person restarting it starts from a clean slate (PM2 resetState).
      this.attempt = 0;
      this.failures.clear();
      if (this.crashLoop) this.clear('crash-loop', 'restarted by a person');
      this.crashLoop = false;
      this.restarts += 1;
      this.launch(reason);
      return this.info();
    });
  }

  pause(): Promise<ServiceInfo> {
    return this.serialize(async () => {
      if (this.state !== 'running')
        throw new ApiError('conflict', `${this.name} is ${this.state}, not running`);
      if (this.def.protocol !== 'vigil' && process.platform === 'win32') {
        throw new ApiError(
          'conflict',
          `${this.name} cannot be paused: Windows offers no SIGSTOP, so only services that speak the vigil protocol can pause there`,
        );
      }
      if (this.def.protocol === 'vigil') this.run?.handle.send({ type: 'pause' });
      else this.run?.handle.signal('SIGSTOP');
      if (this.def.protocol !== 'vigil') this.clearTimer('heartbeat');
      this.clearTimer('probe');
      this.clearTimer('reset');
      this.transition('paused', 'paused by request');
      return this.info();
    });
  }

  resume(): Promise<ServiceInfo> {
    return this.serialize(async () => {
      if (this.state !== 'paused')
        throw new ApiError('conflict', `${this.name} is ${this.state}, not paused`);
      if (this.def.protocol === 'vigil') this.run?.handle.send({ type: 'resume' });
      else this.run?.handle.signal('SIGCONT');
      this.transition('running', 'resumed by request');
      this.armRunningTimers();
      return this.info();
    });
  }

  reload(config: unknown): Promise<ServiceInfo> {
    return this.serialize(async () => {
      if (this.state !== 'running')
        throw new ApiError('conflict', `${this.name} is ${this.state}, not running`);
      if (this.def.protocol !== 'vigil') {
        throw new ApiError('conflict', `${this.name} does not speak the vigil protocol: restart it instead`);
      }
      this.run?.handle.send({ type: 'reload', config });
      this.clearTimer('reset');
      this.transition('reloading', 'reloading its configuration');
      this.armStartTimeout();
      return this.info();
    });
  }

  acknowledge(): Promise<ServiceInfo> {
    return this.serialize(async () => {
      if (this.state !== 'fatal') throw new ApiError('conflict', `${this.name} is ${this.state}, not fatal`);
      this.failures.clear();
      this.crashLoop = false;
      this.attempt = 0;
      this.transition('stopped', 'fatal state acknowledged by a person');
      this.clear('fatal', 'acknowledged by a person');
      this.clear('crash-loop', 'acknowledged by a person');
      return this.info();
    });
  }

  /**
   * A new definition: applied now when stopped, at the next start otherwise; `appliedLive`: the
   * running process already has this change, so it adds nothing pending.
   */
  update(def: ServiceDefinition, appliedLive = false): ServiceInfo {
    this.def = def;
    if (!appliedLive || this.run === null) this.pendingChanges = this.run !== null;
    this.deps.hooks.changed?.(this.info());
    return this.info();
  }

  /** Resolves when the service is running, or rejects when it settles anywhere else. */
  waitUntilRunning(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        const error =
          this.state === 'running'
            ? null
            : this.state === 'stopped' || this.state === 'fatal' || this.state === 'backoff'
              ? new Error(`${this.name} is ${this.state}: ${this.reason ?? 'no reason given'}`)
              : undefined;
        if (error === undefined) return; // still on its way
        clearTimeout(timer);
        this.watchers.delete(settle);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(settle);
        reject(new Error(`${this.name} was not running within ${seconds(timeoutMs)}`));
      }, timeoutMs);
      this.watchers.add(settle);
      settle();
    });
  }

  /** A message for the running child (protocol services only); false if it could not be sent. */
  notify(message: ParentMessage): boolean {
    if (this.def.protocol !== 'vigil' || !this.run || this.run.exit) return false;
    return (this.run.handle as ProcessHandle | undefined)?.send(message) ?? false;
  }

  /** A resource sample of the whole process tree (every 2 s, from the supervisor). */
  onUsage(usage: { cpuPercent: number; rssBytes: number }): void {
    if (!this.run) return;
    this.cpuPercent = usage.cpuPercent;
    this.rssBytes = usage.rssBytes;
    this.checkMemory(usage.rssBytes);
    this.deps.hooks.changed?.(this.info());
  }

  /** Something this service depends on changed; a running dependent shows it as degraded. */
  setDependencyProblem(problem: string | null): void {
    if (this.state !== 'running' || this.health === 'unresponsive') return;
    const fromDependency =
      this.health === 'degraded' && (this.healthReason?.startsWith('dependency') ?? false);
    if (problem && (this.health !== 'degraded' || fromDependency)) this.setHealth('degraded', problem);
    else if (!problem && fromDependency) this.setHealth('healthy', 'dependencies are running again');
  }

  /**
   * SIGKILL to the whole tree now, outside the request queue: for a stop that overran its bound at
   * shutdown (the stop under way then finds the tree gone and finishes).
   */
  async killNow(): Promise<void> {
    // handle is unset for the instant between creating a run and the launcher returning
    const handle = this.run?.handle as ProcessHandle | undefined;
    if (handle) this.reportSurvivors(await handle.kill());
  }

  /** Clears every timer; the process layer's own cleanup still applies. */
  dispose(): void {
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
  }

  // ---- the machine ----

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private launch(reason: string): void {
    this.clearTimer('backoff');
    this.nextRestartAt = null;
    this.pendingChanges = false;
    this.startedAt = Date.now();
    this.readyAt = null;
    this.health = null;
    this.healthReason = null;
    this.lastHeartbeatAt = null;
    this.heartbeat = null;
    this.metrics = null;
    this.gapsTold = new Map();
    this.bus = null;
    this.cpuPercent = null;
    this.rssBytes = null;
    this.detail = null;
    this.hardSamples = 0;
    this.softWarned = false;
    this.probeFailures = 0;

    let resolveExit!: (exit: ExitReport) => void;
    const exited = new Promise<ExitReport>((r) => (resolveExit = r));
    const run = { exit: null, exited, resolveExit } as unknown as Run;
    this.run = run;
    this.transition('starting', reason);
    run.handle = this.deps.launcher.launch(this.def, {
      onMessage: (message) => {
        if (this.run === run) this.onMessage(message);
      },
      onExit: (exit) => {
        if (run.exit) return;
        run.exit = exit;
        run.resolveExit(exit);
        if (this.run === run && !this.stopping) this.onUnexpectedExit(exit);
      },
    });
    if (run.exit) return; // it failed to launch, synchronously
    this.armStartTimeout();
  }

  private armStartTimeout(): void {
    const r = this.def.readiness;
    if (r.type === 'uptime') {
      this.setTimer('ready', r.uptimeMs, () => this.markReady(null, `stayed up for ${seconds(r.uptimeMs)}`));
      return;
    }
    this.setTimer(
      'start',
      r.timeoutMs,
      () => void this.failHealth(`start timeout: not ready within ${seconds(r.timeoutMs)}`, false),
    );
    if (r.type === 'http') this.pollReadiness(r.url, r.intervalMs);
  }

  private pollReadiness(url: string, intervalMs: number): void {
    const run = this.run;
    void this.deps.prober.check(url, Math.max(250, Math.min(intervalMs, 2000))).then((ok) => {
      if (this.run !== run || this.state !== 'starting') return;
      if (ok) this.markReady(null, `answered ${url}`);
      else this.setTimer('ready', intervalMs, () => this.pollReadiness(url, intervalMs));
    });
  }

  private onMessage(raw: unknown): void {
    const parsed = childMessageSchema.safeParse(raw);
    if (!parsed.success) return; // a child cannot confuse the supervisor with junk
    const m = parsed.data;
    switch (m.type) {
      case 'ready':
        if (this.state === 'starting' || this.state === 'reloading')
          this.markReady(m.detail ?? null, 'reported ready');
        return;
      case 'heartbeat':
        this.lastHeartbeatAt = Date.now();
        if (m.payload) this.heartbeat = m.payload;
        if (m.metrics) this.metrics = m.metrics;
        if (this.state === 'running' || this.state === 'paused') this.armHeartbeat();
        this.deps.hooks.changed?.(this.info());
        return;
      case 'metrics':
        this.metrics = m.values;
        this.checkGaps(m.values);
        this.deps.hooks.changed?.(this.info());
        return;
      case 'bus':
        this.bus = m.subscribers;
        return;
      case 'reply':
      case 'event':
        this.deps.hooks.child?.(this.name, m);
        return;
      case 'status':
        // A child cannot talk away what the supervisor sees: a missing dependency stays degraded.
        if (m.health === 'healthy' && this.healthReason?.startsWith('dependency')) return;
        if (this.state === 'running' && this.health !== 'unresponsive') {
          this.setHealth(
            m.health,
            m.message ?? (m.health === 'healthy' ? 'reported healthy' : 'reported degraded'),
          );
        }
        return;
    }
  }

  private markReady(detail: unknown, reason: string): void {
    this.clearTimer('start');
    this.clearTimer('ready');
    this.readyAt = Date.now();
    if (detail !== null) this.detail = detail;
    this.health = 'healthy';
    this.healthReason = null;
    this.transition('running', reason);
    this.clear('unresponsive', 'running again');
    this.clear('memory-hard', 'running again');
    this.clear('degraded', 'running again');
    this.armRunningTimers();
  }

  private armRunningTimers(): void {
    if (this.def.heartbeat) this.armHeartbeat();
    if (this.def.probe) this.scheduleProbe();
    this.stable = false;
    this.setTimer('reset', this.def.restart.resetAfterMs, () => {
      if (this.state !== 'running' || this.health !== 'healthy') return;
      // Up and healthy long enough: the next crash is treated as a first one.
      this.attempt = 0;
      this.stable = true;
      if (this.crashLoop) this.clear('crash-loop', 'stable again');
      this.crashLoop = false;
    });
  }

  private armHeartbeat(): void {
    const hb = this.def.heartbeat;
    if (!hb) return;
    this.setTimer('heartbeat', hb.timeoutMs, () => {
      if (this.state !== 'running') return;
      void this.failHealth(
        `heartbeat timeout: no heartbeat for ${seconds(hb.timeoutMs)}`,
        false,
        'unresponsive',
      );
    });
  }

  private scheduleProbe(): void {
    const probe = this.def.probe;
    if (!probe) return;
    this.setTimer('probe', probe.intervalMs, () => {
      const run = this.run;
      void this.deps.prober.check(probe.url, probe.timeoutMs).then((ok) => {
        if (this.run !== run || this.state !== 'running') return;
        this.probeFailures = ok ? 0 : this.probeFailures + 1;
        if (this.probeFailures >= probe.failureThreshold) {
          void this.failHealth(
            `probe failed ${this.probeFailures} times: ${probe.url}`,
            false,
            'unresponsive',
          );
        } else this.scheduleProbe();
      });
    });
  }

  private checkMemory(rss: number): void {
    if (this.state !== 'running' && this.state !== 'paused') return;
    const { softBytes, hardBytes, hardSamples } = this.def.memory;
    if (hardBytes !== null && rss >= hardBytes * 1.25) {
      this.alert(
        'memory-hard',
        'critical',
        `${mb(rss)} is past 1.25 × the hard limit ${mb(hardBytes)}: killed at once`,
      );
      void this.failHealth(`memory emergency: ${mb(rss)} ≥ 1.25 × ${mb(hardBytes)}`, true);
      return;
    }
    if (hardBytes !== null && rss > hardBytes) {
      this.hardSamples += 1;
      if (this.hardSamples >= hardSamples) {
        this.alert(
          'memory-hard',
          'critical',
          `${mb(rss)} over the hard limit ${mb(hardBytes)} for ${hardSamples} samples`,
        );
        void this.failHealth(`memory hard limit: ${mb(rss)} > ${mb(hardBytes)}`, false);
        return;
      }
    } else this.hardSamples = 0;
    if (softBytes !== null) {
      if (rss > softBytes && !this.softWarned) {
        this.softWarned = true;
        this.alert('memory-soft', 'warning', `${mb(rss)} is over the soft limit ${mb(softBytes)}`);
      } else if (rss < softBytes * 0.9 && this.softWarned) {
        this.softWarned = false;
        this.clear('memory-soft', `back to ${mb(rss)}`);
      }
    }
  }

  /**
   * A health failure while the process lives (start timeout, hang, probe, memory): stop it —
   * gracefully, or at once in an emergency — then treat it as a failed run.
   */
  private async failHealth(cause: string, emergency: boolean, health?: ServiceHealth): Promise<void> {
    await this.serialize(async () => {
      const run = this.run;
      if (!run || this.stopping || run.exit) return;
      if (health) {
        this.setHealth(health, cause);
        this.alert('unresponsive', 'critical', cause);
      }
      if (emergency) {
        this.stopping = true;
        this.transition('stopping', cause);
        const survivors = await run.handle.kill();
        await this.settleExit(run);
        this.reportSurvivors(survivors);
        this.stopping = false;
      } else await this.terminate(run, cause);
      const exit = run.exit ?? { code: null, signal: 'SIGKILL' };
      this.onUnexpectedExit(exit, cause);
    });
  }

  /** Stops the service and everything it spawned. Sticky: it stays stopped until asked. */
  private async halt(reason: string): Promise<void> {
    this.clearTimer('backoff');
    this.nextRestartAt = null;
    const run = this.run;
    if (run && !run.exit) {
      await this.terminate(run, reason);
    } else if (run) {
      this.run = null;
    }
    this.clearRunTimers();
    if (this.state !== 'stopped' && this.state !== 'fatal') this.transition('stopped', reason);
  }

  /** stop message, stop signal to the group, wait, SIGKILL to the group and escapees, verify. */
  private async terminate(run: Run, reason: string): Promise<void> {
    // A paused plain command is SIGSTOPped and must be woken to act on the signal.
    const frozen = this.state === 'paused' && this.def.protocol !== 'vigil';
    this.stopping = true;
    this.clearRunTimers();
    this.transition('stopping', reason);
    await run.handle.snapshot?.();
    const timeout = this.def.stop.timeoutMs;
    let waited = 0;
    let gone = false;
    if (this.def.protocol === 'vigil' && run.handle.send({ type: 'stop', reason })) {
      // A protocol child gets a moment to shut down in order (a trader cancels its orders) before
      // the signal reaches the whole group.
      waited = Math.min(PROTOCOL_STOP_GRACE_MS, Math.floor(timeout / 2));
      gone = await run.handle.waitUntilGone(waited);
    }
    if (!gone) {
      run.handle.signal(this.def.stop.signal);
      if (frozen) run.handle.signal('SIGCONT');
      gone = await run.handle.waitUntilGone(timeout - waited);
    }
    if (!gone) this.reportSurvivors(await run.handle.kill());
    await this.settleExit(run);
    this.stopping = false;
  }

  private async settleExit(run: Run): Promise<void> {
    // The OS says the tree is gone; the exit event follows within moments.
    await Promise.race([run.exited, new Promise((r) => setTimeout(r, 2000))]);
    if (!run.exit) run.exit = { code: null, signal: 'SIGKILL' };
    this.recordExit(run.exit, describeExit(run.exit));
    if (this.run === run) this.run = null;
  }

  private reportSurvivors(survivors: { pid: number; command: string }[]): void {
    if (survivors.length === 0) return;
    const list = survivors.map((s) => `${s.pid} (${s.command})`).join(', ');
    this.alert('survivors', 'critical', `processes survived SIGKILL: ${list}`);
  }

  /** The process ended without being asked (or a health failure ended it): restart, give up, or rest. */
  private onUnexpectedExit(exit: ExitReport, cause?: string): void {
    const now = Date.now();
    const run = this.run;
    if (run && !run.exit) run.exit = exit;
    if (run) this.run = null;
    this.clearRunTimers();
    const why = cause ?? describeExit(exit);
    if (!cause) this.recordExit(exit, why);
    else if (this.lastExit) this.lastExit.reason = `${cause} (${this.lastExit.reason})`;
    const r = this.def.restart;

    if (exit.code === EXIT_CONFIG_ERROR && !cause) {
      this.transition(
        'fatal',
        `configuration error (exit ${EXIT_CONFIG_ERROR}): fix the configuration, then acknowledge`,
      );
      this.alert(
        'fatal',
        'critical',
        `${this.name} reported a configuration error (exit ${EXIT_CONFIG_ERROR})`,
      );
      return;
    }
    const clean =
      !cause && !exit.error && exit.signal === null && r.successExitCodes.includes(exit.code ?? -1);
    const early = this.readyAt === null || now - this.readyAt < r.minUptimeMs;
    const failure = !clean || early;
    const noRestart = !cause && exit.code !== null && r.noRestartExitCodes.includes(exit.code);
    const restart = !noRestart && (r.policy === 'always' || (r.policy === 'on-failure' && !clean));

    if (failure) {
      const count = this.failures.record(now, r.crashLoop.windowMs);
      if (count >= r.crashLoop.maxFailures) {
        const loop = `crash loop: ${count} failures within ${seconds(r.crashLoop.windowMs)}`;
        if (r.crashLoop.action === 'fatal') {
          this.transition('fatal', `${loop} (last: ${why}); a person must acknowledge`);
          this.alert('fatal', 'critical', `${this.name} gave up after a ${loop}`);
          return;
        }
        if (!this.crashLoop) {
          this.crashLoop = true;
          this.alert(
            'crash-loop',
            'critical',
            `${this.name} is in a ${loop}; retrying every ${seconds(backoffCap(r.backoff))}`,
          );
        }
      }
    }
    if (!restart || r.policy === 'never') {
      this.transition('stopped', noRestart ? `${why} (a no-restart exit code)` : why);
      return;
    }
    this.attempt += 1;
    let delay = this.crashLoop
      ? backoffCap(r.backoff)
      : backoffDelay(r.backoff, this.attempt, this.deps.random);
    if (this.stable && this.attempt === 1) delay = Math.min(delay, FAST_RESTART_MS);
    this.stable = false;
    this.nextRestartAt = now + delay;
    this.transition('backoff', `${why}; restarting in ${seconds(delay)}`);
    this.setTimer('backoff', delay, () => {
      void this.serialize(async () => {
        if (this.state !== 'backoff') return;
        this.restarts += 1;
        this.launch(`restart ${this.attempt} after: ${why}`);
      });
    });
  }

  private recordExit(exit: ExitReport, reason: string): void {
    const record: ServiceExit = { code: exit.code, signal: exit.signal, at: Date.now(), reason };
    this.lastExit = record;
    this.recentExits = [record, ...this.recentExits].slice(0, MAX_RECENT_EXITS);
  }

  private setHealth(health: ServiceHealth, reason: string): void {
    if (this.health === health && this.healthReason === reason) return;
    this.health = health;
    this.healthReason = reason;
    if (health === 'degraded') this.alert('degraded', 'warning', reason);
    if (health === 'healthy') this.clear('degraded', reason);
    this.transition(this.state, reason);
  }

  private transition(to: ServiceState, reason: string): void {
    const from = this.state;
    this.state = to;
    this.reason = reason;
    if (to !== 'running' && to !== 'paused') this.health = to === 'reloading' ? this.health : null;
    const info = this.info();
    this.deps.hooks.transition(
      {
        service: this.name,
        from,
        to,
        health: this.health,
        reason,
        at: Date.now(),
        exit:
          to === 'backoff' || to === 'fatal' || (to === 'stopped' && from === 'stopping')
            ? this.lastExit
            : null,
        restarts: this.restarts,
        nextRestartAt: this.nextRestartAt,
      },
      info,
    );
    for (const watch of [...this.watchers]) watch();
  }

  /**
   * A stream's gap counter rose (the collector wrote a gap to its ledger): a person should know, but
   * a flapping feed must not bury them in alerts, so at most one a minute, naming every stream whose
   * count rose since the last one.
   */
  private checkGaps(values: Record<string, number>): void {
    const now = Date.now();
    if (now - this.lastGapAlertAt < GAP_ALERT_INTERVAL_MS) return;
    const rose: string[] = [];
    for (const [key, count] of Object.entries(values)) {
      if (!key.endsWith('.gaps') || !Number.isFinite(count)) continue;
      const stream = key.slice(0, -'.gaps'.length);
      const told = this.gapsTold.get(stream) ?? 0;
      if (count > told) rose.push(`${stream} +${count - told}`);
      this.gapsTold.set(stream, count);
    }
    if (rose.length === 0) return;
    this.lastGapAlertAt = now;
    const shown = rose.slice(0, 8).join(', ') + (rose.length > 8 ? `, and ${rose.length - 8} more` : '');
    this.alert('data-gap', 'warning', `market data gaps (written to the gap ledger): ${shown}`);
  }

  private alert(kind: ServiceAlert['kind'], severity: ServiceAlert['severity'], message: string): void {
    this.deps.hooks.alert({ service: this.name, kind, severity, message, at: Date.now() });
  }

  private clear(kind: ServiceAlert['kind'], reason: string): void {
    this.deps.hooks.cleared?.(this.name, kind, reason);
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  private clearTimer(name: TimerName): void {
    const t = this.timers.get(name);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(name);
  }

  private clearRunTimers(): void {
    for (const name of ['start', 'ready', 'heartbeat', 'probe', 'reset'] as const) this.clearTimer(name);
  }
}

export function describeExit(exit: ExitReport): string {
  if (exit.error) return `could not start: ${exit.error}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
