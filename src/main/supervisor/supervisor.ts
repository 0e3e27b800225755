/**
 * The supervisor: every service's runner, their dependencies, resource sampling, logs, the event log,
 * and the data directory it owns. State is decided from the OS: at start it takes the data
 * directory's lock and kills what a crashed previous run left behind before starting anything.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_SUBJECT_PREFIX, type BusSample } from '../../shared/bus';
import type { ChildBusConfig, ChildEvent } from '../../shared/child-protocol';
import { EmbeddedBus } from '../../services/bus/embedded';
import { isNamedPipe } from '../../services/bus/peer-link';
import type { Bus, BusMessage, BusSubscription } from '../../services/bus/types';
import { ApiError } from '../../shared/errors';
import {
  resolveDefinition,
  type ServiceDefinition,
  type ServiceDefinitionInput,
} from '../../shared/service-definition';
import type {
  AlertKind,
  LogLine,
  MetricsSample,
  ServiceAlert,
  ServiceInfo,
  ServiceTransition,
} from '../../shared/services';
import type { Settings } from '../../shared/settings';
import type { TraderConfirm } from '../../shared/trader-api';
import { zodErrorToApiError } from '../../shared/validation';

type BusSettings = Settings['bus'];
import type { EventHub } from '../api/event-hub';
import { busSocketPath } from './bus-address';
import { SupervisorEventLog } from './event-log';
import { httpProber } from './http-prober';
import { ProcessLauncher } from './process-launcher';
import { reconcileLeftovers, RunStateFile } from './run-state-file';
import { ChildRequests } from './child-requests';
import { ServiceLog } from './service-log';
import { ServiceRunner, type Launcher } from './service-runner';
import { shutdownBudgetMs, stopInOrder, type StoppableService } from './shutdown';
import { checkTraderConfirmation } from './trader-confirmation';
import { TreeSampler } from './tree-sampler';

/** Where the supervisor's decisions are kept (the SQLite store in the app; nothing in some tests). */
export interface SupervisorRecorder {
  saveDefinition(def: ServiceDefinition): void;
  removeDefinition(name: string): void;
  /** Returns the transition's id in the history, which its live event carries. */
  transition(t: ServiceTransition): number;
  /** Returns the alert's id in the history, which its live event carries. */
  alert(a: ServiceAlert): number;
  alertCleared(service: string, kind: AlertKind, at: number): void;
  samples(at: number, values: { service: string; metric: string; value: number }[]): void;
}

/** Keeps nothing; the ids it hands out are only unique within this supervisor. */
function noRecorder(): SupervisorRecorder {
  let transitions = 0;
  let alerts = 0;
  return {
    saveDefinition: () => undefined,
    removeDefinition: () => undefined,
    transition: () => ++transitions,
    alert: () => ++alerts,
    alertCleared: () => undefined,
    samples: () => undefined,
  };
}

export interface SupervisorOptions {
  dataDir: string;
  servicesDir: string;
  events: EventHub;
  definitions: ServiceDefinition[];
  recorder?: SupervisorRecorder;
  /** The bus children get (default: embedded). */
  bus?: BusSettings;
  /** Start the services marked autostart (default true). */
  autostart?: boolean;
  sampleIntervalMs?: number;
  metricsIntervalMs?: number;
  /** Tests substitute the process layer. */
  launcher?: Launcher;
}

const LOG_BATCH_MS = 250;

export class Supervisor {
  private readonly runners = new Map<string, ServiceRunner>();
  private readonly logs = new Map<string, ServiceLog>();
  private readonly pendingLines = new Map<string, LogLine[]>();
  private readonly sampler = new TreeSampler();
  private sampling = false;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private lastCpu = process.cpuUsage();
  private lastCpuAt = Date.now();
  private sampleMs: number;
  private closing: Promise<void> | null = null;
  private readonly recorder: SupervisorRecorder;
  private bus: BusSettings = { backend: 'embedded', natsUrl: null };
  /** The supervisor's own seat on the bus: samples only, joined when the first protocol child launches. */
  private view: Promise<Bus> | null = null;
  /** Live views asked for with watchBus, attached to the seat when it is taken. */
  private readonly busWatchers = new Set<(bus: Bus) => void>();
  private readonly childRequests = new ChildRequests();
  private readonly childEvents = new Set<(service: string, event: ChildEvent) => void>();

  private constructor(
    private readonly opts: SupervisorOptions,
    private readonly launcher: Launcher,
    private readonly processLauncher: ProcessLauncher | null,
    private readonly eventLog: SupervisorEventLog,
  ) {
    this.recorder = opts.recorder ?? noRecorder();
    this.sampleMs = opts.sampleIntervalMs ?? 2000;
    if (opts.bus) this.bus = opts.bus;
  }

  /** The caller holds the data directory's lock (see core.ts). */
  static async open(opts: SupervisorOptions): Promise<Supervisor> {
    const logDir = join(opts.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const eventLog = new SupervisorEventLog(join(logDir, 'supervisor.log'));
    try {
      const runState = new RunStateFile(join(opts.dataDir, 'run-state.json'));
      const leftovers = runState.load();
      if (leftovers.length > 0) {
        // Processes from a run that ended without stopping them: they go before anything starts.
        const result = await reconcileLeftovers(leftovers);
        for (const r of result.killed) eventLog.append({ type: 'leftover-killed', ...r });
        for (const s of result.survivors) eventLog.append({ type: 'leftover-survived', ...s });
        for (const r of [...result.killed, ...result.gone]) runState.remove(r.service);
      }
      // The launcher asks for a log only when it launches, by which time `sup` exists.
      // eslint-disable-next-line prefer-const
      let sup: Supervisor;
      const processLauncher = opts.launcher
        ? null
        : new ProcessLauncher({
            dataDir: opts.dataDir,
            servicesDir: opts.servicesDir,
            log: (name) => sup.serviceLog(name),
            bus: (name) => sup.busFor(name),
            runState,
          });
      sup = new Supervisor(opts, opts.launcher ?? processLauncher!, processLauncher, eventLog);
      for (const def of opts.definitions) sup.addRunner(def);
      sup.timers.push(setInterval(() => void sup.sample(), sup.sampleMs));
      sup.timers.push(setInterval(() => sup.emitMetrics(), opts.metricsIntervalMs ?? 1000));
      sup.timers.push(setInterval(() => sup.flushLogLines(), LOG_BATCH_MS));
      for (const t of sup.timers) t.unref();
      eventLog.append({ type: 'supervisor-started', pid: process.pid, services: opts.definitions.length });
      if (opts.autostart ?? true) void sup.autostart();
      return sup;
    } catch (error) {
      await eventLog.close();
      throw error;
    }
  }

  // ---- queries ----

  list(): ServiceInfo[] {
    return [...this.runners.values()].map((r) => r.info());
  }

  get(name: string): ServiceInfo {
    return this.find(name).info();
  }

  logTail(
    name: string,
    lines: number,
    filter: { stream?: LogLine['stream']; contains?: string } = {},
  ): LogLine[] {
    this.find(name);
    return this.serviceLog(name).tail(lines, filter);
  }

  /** The last `lines` lines numbered below `before`, read back from the log files where needed. */
  logBefore(
    name: string,
    before: number,
    lines: number,
    filter: { stream?: LogLine['stream']; contains?: string } = {},
  ): Promise<LogLine[]> {
    this.find(name);
    return this.serviceLog(name).before(before, lines, filter);
  }

  // ---- control ----

  /**
   * A person starts a service, after the services it depends on are running. A trader needs their
   * confirmation of its mode (trader-confirmation.ts), and is never started as a dependency.
   */
  async start(name: string, confirm?: TraderConfirm): Promise<ServiceInfo> {
    checkTraderConfirmation(this.get(name), 'start', confirm);
    return this.startWithDependencies(name);
  }

  private async startWithDependencies(name: string): Promise<ServiceInfo> {
    const runner = this.find(name);
    this.refuseWhileClosing(name);
    for (const dep of this.dependencyOrder(name).slice(0, -1)) {
      const d = this.find(dep);
      if (d.current === 'running') continue;
      if (d.current === 'fatal') {
        throw new ApiError('conflict', `${name} needs ${dep}, which is fatal: acknowledge it first`);
      }
      if (d.definition.kind === 'trader') {
        throw new ApiError(
          'conflict',
          `${name} needs the trader ${dep}, which is ${d.current}: a person starts a trader, with its confirmation`,
        );
      }
      await d.start(`started because ${name} depends on it`);
      try {
        await d.waitUntilRunning(readinessBudget(d.definition));
      } catch (error) {
        throw new ApiError(
          'conflict',
          `${name} needs ${dep}, which did not become ready: ${(error as Error).message}`,
        );
      }
    }
    // Its dependencies took a while: Vigil may have begun shutting down meanwhile.
    this.refuseWhileClosing(name);
    return runner.start();
  }

  stop(name: string): Promise<ServiceInfo> {
    return this.find(name).stop();
  }

  /** A person's restart: a trader's needs their confirmation, as a start does. */
  async restart(name: string, confirm?: TraderConfirm): Promise<ServiceInfo> {
    const runner = this.find(name);
    checkTraderConfirmation(runner.info(), 'restart', confirm);
    this.refuseWhileClosing(name);
    return runner.restart();
  }

  pause(name: string): Promise<ServiceInfo> {
    return this.find(name).pause();
  }

  resume(name: string): Promise<ServiceInfo> {
    return this.find(name).resume();
  }

  reload(name: string, config: unknown): Promise<ServiceInfo> {
    return this.find(name).reload(config);
  }

  acknowledge(name: string): Promise<ServiceInfo> {
    return this.find(name).acknowledge();
  }

  add(input: ServiceDefinitionInput): ServiceInfo {
    const def = this.validate(input);
    if (this.runners.has(def.name)) {
      throw new ApiError('conflict', `a service named "${def.name}" already exists`, 'definition.name');
    }
    this.recorder.saveDefinition(def);
    const runner = this.addRunner(def);
    this.eventLog.append({ type: 'service-added', service: def.name });
    const info = runner.info();
    // Every window learns of it now, not at its first state change.
    this.opts.events.emit('service.state', info);
    return info;
  }

  /**
   * Replaces a definition; a running service applies it at its next start, unless `appliedLive` says
   * the running process already has the change (a trader's risk limits), so nothing is pending for it.
   */
  update(name: string, input: ServiceDefinitionInput, opts: { appliedLive?: boolean } = {}): ServiceInfo {
    const runner = this.find(name);
    if (input.name !== name) {
      throw new ApiError(
        'invalid_input',
        'definition.name: renaming is not supported; add a new service',
        'definition.name',
      );
    }
    const def = this.validate(input);
    this.recorder.saveDefinition(def);
    const info = runner.update(def, opts.appliedLive ?? false);
    this.eventLog.append({ type: 'service-updated', service: name, pendingChanges: info.pendingChanges });
    this.opts.events.emit('service.state', info);
    return info;
  }

  async remove(name: string): Promise<{ removed: string }> {
    const runner = this.find(name);
    if (runner.current !== 'stopped' && runner.current !== 'fatal') {
      throw new ApiError('conflict', `${name} is ${runner.current}: stop it before removing it`);
    }
    const dependents = this.dependentsOf(name);
    if (dependents.length > 0) {
      throw new ApiError(
        'conflict',
        `${dependents.join(', ')} depend${dependents.length === 1 ? 's' : ''} on ${name}`,
      );
    }
    this.recorder.removeDefinition(name);
    runner.dispose();
    this.runners.delete(name);
    this.leaveBus(name);
    await this.logs.get(name)?.close();
    this.logs.delete(name);
    this.eventLog.append({ type: 'service-removed', service: name });
    this.opts.events.emit('service.removed', { name });
    return { removed: name };
  }

  /**
   * The order autostart starts services in: each one after what it depends on. Closing stops them in
   * the exact reverse of it, traders first (see shutdown.ts).
   */
  startOrder(): string[] {
    const seen = new Set<string>();
    return [...this.runners.keys()].flatMap((n) => this.dependencyOrder(n, seen));
  }

  // ---- requests and events of protocol children ----

  /**
   * Asks a running protocol child to do `method` and resolves with its reply's result. Fails with
   * ApiError('unavailable') when the child cannot be asked or its run ends first, and with
   * ChildRequestError when it answers with an error.
   */
  request(name: string, method: string, params: unknown, timeoutMs = 30_000): Promise<unknown> {
    const runner = this.find(name);
    return this.childRequests.send(name, (m) => runner.notify(m), method, params, timeoutMs);
  }

  /**
   * An alert about a service: kept in the history, sent as `service.alert`, in the event log and the
   * service's log. The runners raise theirs here; the core raises what a child reports (a trader's).
   */
  raiseAlert(a: ServiceAlert): number {
    const id = this.recorder.alert(a);
    this.opts.events.emit('service.alert', { ...a, id });
    this.eventLog.append({ type: 'alert', ...a });
    this.serviceLog(a.service).note(`${a.severity}: ${a.message}`);
    return id;
  }

  /** The condition behind a service's alerts of `kind` ended: they are cleared (a person may still acknowledge them). */
  clearAlert(service: string, kind: AlertKind, reason: string): void {
    this.recorder.alertCleared(service, kind, Date.now());
    this.eventLog.append({ type: 'alert-cleared', service, kind, reason });
  }

  /** Every `event` message of every child, in arrival order. */
  onChildEvent(listener: (service: string, event: ChildEvent) => void): () => void {
    this.childEvents.add(listener);
    return () => this.childEvents.delete(listener);
  }

  /** The longest close() may take to stop the services as they are now (every bound reached). */
  shutdownBudgetMs(): number {
    return shutdownBudgetMs(this.stoppable());
  }

  /**
   * Stops everything: traders first, then the rest in the exact reverse of the start order, each
   * bounded (shutdown.ts), then checks with the OS that no service's process is left.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      this.childRequests.close();
      const all = [...this.runners.values()];
      const report = await stopInOrder(this.stoppable());
      if (report.overran.length > 0 || report.survivors.length > 0) {
        this.eventLog.append({
          type: 'shutdown-forced',
          overran: report.overran,
          survivors: report.survivors,
        });
      }
      for (const r of all) r.dispose();
      await this.view?.then((b) => b.close()).catch(() => undefined);
      this.flushLogLines();
      await Promise.all([...this.logs.values()].map((l) => l.close()));
      this.eventLog.append({ type: 'supervisor-stopped', pid: process.pid });
      await this.eventLog.close();
    })();
    return this.closing;
  }

  // ---- internals ----

  private find(name: string): ServiceRunner {
    const runner = this.runners.get(name);
    if (!runner) throw new ApiError('not_found', `no service named "${name}"`, 'name');
    return runner;
  }

  private validate(input: ServiceDefinitionInput): ServiceDefinition {
    const r = resolveDefinition(input);
    if (!r.ok) {
      const e = zodErrorToApiError(r.error, 'definition');
      throw new ApiError(
        'invalid_input',
        e.field ? `definition.${e.message}` : e.message,
        e.field ? `definition.${e.field}` : 'definition',
      );
    }
    const def = r.definition;
    def.dependsOn.forEach((dep, i) => {
      if (!this.runners.has(dep)) {
        throw new ApiError(
          'invalid_input',
          `definition.dependsOn.${i}: no service named "${dep}"`,
          `definition.dependsOn.${i}`,
        );
      }
    });
    const cycle = this.findCycle(def);
    if (cycle) {
      throw new ApiError(
        'invalid_input',
        `definition.dependsOn: a dependency cycle: ${cycle.join(' → ')}`,
        'definition.dependsOn',
      );
    }
    return def;
  }

  private addRunner(def: ServiceDefinition): ServiceRunner {
    const runner = new ServiceRunner(def, {
      launcher: this.launcher,
      prober: httpProber,
      hooks: {
        transition: (t, info) => {
          const id = this.recorder.transition(t);
          this.opts.events.emit('service.transition', { ...t, id });
          this.opts.events.emit('service.state', info);
          this.eventLog.append({ type: 'transition', ...t });
          this.serviceLog(t.service).note(
            `${t.from} → ${t.to}${t.health ? ` (${t.health})` : ''}: ${t.reason}`,
          );
          this.updateDependents(t.service);
          if (t.to !== 'running' && t.to !== 'paused' && t.to !== 'reloading') {
            this.childRequests.runEnded(t.service, `went ${t.to} (${t.reason})`);
          }
        },
        alert: (a) => this.raiseAlert(a),
        child: (service, message) => {
          if (message.type === 'reply') {
            this.childRequests.reply(service, message);
            return;
          }
          for (const listener of this.childEvents) {
            try {
              listener(service, message);
            } catch (error) {
              this.eventLog.append({
                type: 'child-event-failed',
                service,
                event: message.name,
                reason: (error as Error).message,
              });
            }
          }
        },
        cleared: (service, kind, reason) => this.clearAlert(service, kind, reason),
      },
    });
    this.runners.set(def.name, runner);
    return runner;
  }

  /** Each service's log, created on first use and kept across its runs. */
  serviceLog(name: string): ServiceLog {
    let log = this.logs.get(name);
    if (log) return log;
    log = new ServiceLog({ dir: join(this.opts.dataDir, 'logs'), name });
    this.logs.set(name, log);
    log.onLine((line) => {
      const pending = this.pendingLines.get(name);
      if (pending) pending.push(line);
      else this.pendingLines.set(name, [line]);
    });
    return log;
  }

  private flushLogLines(): void {
    for (const [service, lines] of this.pendingLines)
      this.opts.events.emit('service.log', { service, lines });
    this.pendingLines.clear();
  }

  private async autostart(): Promise<void> {
    for (const name of this.startOrder()) {
      if (this.closing) return;
      const runner = this.runners.get(name);
      // Never a trader: validation refuses autostart for one, and this holds for any stored before.
      if (!runner?.definition.autostart || runner.definition.kind === 'trader') continue;
      try {
        await this.startWithDependencies(name);
      } catch (error) {
        this.eventLog.append({ type: 'autostart-failed', service: name, reason: (error as Error).message });
      }
    }
  }

  private async sample(): Promise<void> {
    // A snapshot can outlast the interval (a PowerShell start on Windows, a loaded machine): skip a
    // tick rather than queue snapshots behind it.
    if (this.sampling) return;
    const roots = [...this.runners.values()]
      .filter((r) => r.pid !== null)
      .map((r) => ({ key: r.name, pid: r.pid!, pgid: r.pid! }));
    if (roots.length === 0) return;
    this.sampling = true;
    try {
      const usage = await this.sampler.sample(roots);
      const at = Date.now();
      const values: { service: string; metric: string; value: number }[] = [];
      for (const [name, u] of usage) {
        this.processLauncher?.track(name, u.pids);
        const runner = this.runners.get(name);
        runner?.onUsage({ cpuPercent: u.cpuPercent, rssBytes: u.rssBytes });
        values.push(
          { service: name, metric: 'cpu', value: u.cpuPercent },
          { service: name, metric: 'rss', value: u.rssBytes },
        );
        const info = runner?.info();
        if (info?.lastHeartbeatAt)
          values.push({ service: name, metric: 'heartbeatAge', value: at - info.lastHeartbeatAt });
        for (const [metric, value] of Object.entries(info?.metrics ?? {})) {
          if (Number.isFinite(value)) values.push({ service: name, metric: `app.${metric}`, value });
        }
      }
      this.recorder.samples(at, values);
    } catch (error) {
      this.eventLog.append({ type: 'sample-failed', reason: (error as Error).message });
    } finally {
      this.sampling = false;
    }
  }

  private emitMetrics(): void {
    const now = Date.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Math.max(1, (now - this.lastCpuAt) * 1000);
    this.lastCpu = process.cpuUsage();
    this.lastCpuAt = now;
    const services = [...this.runners.values()].map((r) => {
      const i = r.info();
      return {
        name: i.name,
        state: i.state,
        health: i.health,
        cpuPercent: i.cpuPercent,
        rssBytes: i.rssBytes,
        heartbeatAgeMs: i.lastHeartbeatAt === null ? null : now - i.lastHeartbeatAt,
        restarts: i.restarts,
        metrics: i.metrics,
        bus: i.bus,
      };
    });
    const sample: MetricsSample = {
      at: now,
      supervisor: {
        cpuPercent: ((cpu.user + cpu.system) / elapsedUs) * 100,
        rssBytes: process.memoryUsage().rss,
      },
      totals: {
        cpuPercent: services.reduce((n, s) => n + (s.cpuPercent ?? 0), 0),
        rssBytes: services.reduce((n, s) => n + (s.rssBytes ?? 0), 0),
        services: services.length,
        running: services.filter((s) => s.state === 'running').length,
      },
      services,
    };
    this.opts.events.emit('metrics', sample);
  }

  /**
   * Replaces every definition at once (a configuration import). Checked whole before anything
   * changes: a service the new set drops must be stopped. `commit` makes it durable first.
   */
  replaceDefinitions(defs: ServiceDefinition[], commit: () => void): void {
    const keep = new Set(defs.map((d) => d.name));
    const running = [...this.runners.values()].filter(
      (r) => !keep.has(r.name) && r.current !== 'stopped' && r.current !== 'fatal',
    );
    if (running.length > 0) {
      throw new ApiError(
        'conflict',
        `the new configuration drops ${running.map((r) => `${r.name} (${r.current})`).join(', ')}: stop first`,
      );
    }
    commit();
    for (const r of [...this.runners.values()]) {
      if (keep.has(r.name)) continue;
      r.dispose();
      this.runners.delete(r.name);
      this.opts.events.emit('service.removed', { name: r.name });
    }
    for (const def of defs) {
      const existing = this.runners.get(def.name);
      if (existing) existing.update(def);
      else this.opts.events.emit('service.state', this.addRunner(def).info());
    }
    this.eventLog.append({ type: 'configuration-replaced', services: defs.length });
  }

  /** Which bus children get; each child picks it up at its next start. */
  setBus(bus: BusSettings): void {
    this.bus = bus;
  }

  /**
   * Embedded: every protocol child publishes on its own Unix socket in the data directory (a named
   * pipe on Windows) and subscribes from every other protocol service's socket (interest travels to
   * the publisher, so nothing unwanted crosses). NATS: everyone connects to the configured server.
   */
  busFor(name: string): ChildBusConfig {
    if (this.bus.backend === 'nats' && this.bus.natsUrl) {
      this.joinBus({ backend: 'nats', servers: this.bus.natsUrl });
      return { backend: 'nats', servers: this.bus.natsUrl };
    }
    const socket = (service: string): string => this.busSocket(service);
    mkdirSync(join(this.opts.dataDir, 'bus'), { recursive: true });
    const peers = [...this.runners.values()]
      .filter((r) => r.name !== name && r.definition.protocol === 'vigil')
      .map((r) => socket(r.name));
    this.joinBus({ backend: 'embedded', peer: socket(name) });
    // Children already running learn about this publisher now, not at their next start.
    for (const r of this.runners.values()) {
      if (r.name !== name) r.notify({ type: 'peers', peers: [socket(name)] });
    }
    return { backend: 'embedded', listen: socket(name), peers };
  }

  private busSocket(service: string): string {
    return busSocketPath(this.opts.dataDir, service);
  }

  /** A removed service stops being a peer: nobody keeps reconnecting to a publisher that is gone. */
  private leaveBus(name: string): void {
    const socket = this.busSocket(name);
    for (const r of this.runners.values()) r.notify({ type: 'peers', peers: [], removed: [socket] });
    void this.view
      ?.then((bus) => {
        if (bus instanceof EmbeddedBus) bus.removePeer(socket);
      })
      .catch(() => undefined);
    if (!isNamedPipe(socket)) rmSync(socket, { force: true });
  }

  /** Subscribes the supervisor to the samples only; a failure here never stops a launch. */
  private joinBus(how: { backend: 'embedded'; peer: string } | { backend: 'nats'; servers: string }): void {
    this.view ??= (async () => {
      const bus: Bus =
        how.backend === 'embedded'
          ? await EmbeddedBus.open({ id: 'vigil-supervisor' })
          : await (
              await import('../../services/bus/nats')
            ).NatsBus.connect({ servers: how.servers, name: 'vigil-supervisor' });
      bus.subscribe(`${SAMPLE_SUBJECT_PREFIX}.>`, (m) =>
        this.opts.events.emit('bus.sample', m.data as BusSample),
      );
      for (const attach of this.busWatchers) attach(bus);
      return bus;
    })();
    void this.view
      .then((bus) => {
        if (how.backend === 'embedded' && bus instanceof EmbeddedBus) bus.addPeer(how.peer);
      })
      .catch((error: unknown) => this.eventLog.append({ type: 'bus-view-failed', reason: String(error) }));
  }

  /**
   * A live view of some market data, e.g. the UI's top of book while a person looks at it: subscribes
   * on the supervisor's seat on the bus (now, or when the seat is taken with the first protocol child)
   * until the returned function is called. Interest travels to the publishers, so once it is called
   * nothing of `pattern` crosses to this process any more. Keep patterns narrow: this is main.
   */
  watchBus(pattern: string, handler: (message: BusMessage) => void): () => void {
    let subscription: BusSubscription | null = null;
    let done = false;
    const attach = (bus: Bus): void => {
      if (done || subscription) return;
      try {
        subscription = bus.subscribe(pattern, handler);
      } catch (error) {
        this.eventLog.append({ type: 'bus-watch-failed', pattern, reason: String(error) });
      }
    };
    this.busWatchers.add(attach);
    void this.view?.then(attach).catch(() => undefined);
    return () => {
      done = true;
      this.busWatchers.delete(attach);
      subscription?.unsubscribe();
      subscription = null;
    };
  }

  /** How often resource samples are taken (and recorded), in ms. */
  get sampleIntervalMs(): number {
    return this.sampleMs;
  }

  /** How often resource samples are taken (and recorded). */
  setSampleInterval(ms: number): void {
    this.sampleMs = ms;
    const old = this.timers.shift();
    if (old) clearInterval(old);
    const t = setInterval(() => void this.sample(), ms);
    t.unref();
    this.timers.unshift(t);
  }

  private dependentsOf(name: string): string[] {
    return [...this.runners.values()].filter((r) => r.definition.dependsOn.includes(name)).map((r) => r.name);
  }

  private updateDependents(name: string): void {
    const state = this.runners.get(name)?.current;
    for (const dependent of this.dependentsOf(name)) {
      this.runners
        .get(dependent)
        ?.setDependencyProblem(state === 'running' ? null : `dependency ${name} is ${state ?? 'gone'}`);
    }
  }

  /** The services `name` needs, deepest first, then `name` itself. */
  private dependencyOrder(name: string, seen = new Set<string>()): string[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const deps = this.runners.get(name)?.definition.dependsOn ?? [];
    return [...deps.flatMap((d) => this.dependencyOrder(d, seen)), name];
  }

  /** Every service as shutdown.ts sees it, in start order. */
  private stoppable(): StoppableService[] {
    return this.startOrder().map((name) => {
      const runner = this.find(name);
      return {
        name,
        kind: runner.definition.kind,
        state: runner.current,
        stopTimeoutMs: runner.definition.stop.timeoutMs,
        stop: () => runner.stop('Vigil is shutting down'),
        kill: () => {
          this.serviceLog(name).note('shutting down: killing what is left of its process tree');
          return runner.killNow();
        },
        // The launcher keeps a tree's record until the OS shows none of it left.
        isGone: () => this.processLauncher?.isGone(name) ?? Promise.resolve(runner.pid === null),
      };
    });
  }

  private refuseWhileClosing(name: string): void {
    if (this.closing) throw new ApiError('conflict', `${name} cannot start: Vigil is shutting down`);
  }

  private findCycle(def: ServiceDefinition): string[] | null {
    const depsOf = (n: string): string[] =>
      n === def.name ? def.dependsOn : (this.runners.get(n)?.definition.dependsOn ?? []);
    const walk = (n: string, path: string[]): string[] | null => {
      if (path.includes(n)) return [...path.slice(path.indexOf(n)), n];
      for (const d of depsOf(n)) {
        const c = walk(d, [...path, n]);
        if (c) return c;
      }
      return null;
    };
    return walk(def.name, []);
  }
}

/** How long a dependency may take to become ready before its dependent's start fails. */
function readinessBudget(def: ServiceDefinition): number {
  const r = def.readiness;
  return (r.type === 'uptime' ? r.uptimeMs : r.timeoutMs) + 5000;
}
