/**
 * Starts, watches and stops services as real OS processes. Every child goes through one launch path
 * (execa); built-in programs run on this same runtime (process.execPath, with ELECTRON_RUN_AS_NODE=1
 * so it also works inside Electron) and talk over the Node IPC channel.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { childEnv, childMessageSchema, type ParentMessage } from '../../shared/child-protocol';
import { ApiError } from '../../shared/errors';
import type { ServiceInfo, ServiceState } from '../../shared/services';
import { builtinScript, type ServiceDefinition } from './definitions';

export interface ServiceManagerOptions {
  dataDir: string;
  servicesDir: string;
  definitions: ServiceDefinition[];
  onChange: (info: ServiceInfo) => void;
}

interface Run {
  process: ReturnType<typeof execa>;
  exited: Promise<void>;
  log: WriteStream;
}

class Service {
  readonly def: ServiceDefinition;
  state: ServiceState = 'stopped';
  run: Run | null = null;
  startedAt: number | null = null;
  readyAt: number | null = null;
  restarts = 0;
  lastExit: ServiceInfo['lastExit'] = null;
  reason: string | null = null;
  lastHeartbeatAt: number | null = null;
  detail: unknown = null;
  /** Serializes start/stop/restart so concurrent requests cannot interleave. */
  queue: Promise<unknown> = Promise.resolve();

  constructor(def: ServiceDefinition) {
    this.def = def;
  }

  info(): ServiceInfo {
    const { name, kind, description, program, autostart } = this.def;
    return {
      name,
      kind,
      description,
      program,
      autostart,
      state: this.state,
      pid: this.run?.process.pid ?? null,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      restarts: this.restarts,
      lastExit: this.lastExit,
      reason: this.reason,
      lastHeartbeatAt: this.lastHeartbeatAt,
      detail: this.detail,
    };
  }
}

export class ServiceManager {
  private readonly services = new Map<string, Service>();
  private readonly opts: ServiceManagerOptions;
  private readonly logDir: string;

  constructor(opts: ServiceManagerOptions) {
    this.opts = opts;
    this.logDir = join(opts.dataDir, 'logs');
    for (const def of opts.definitions) this.services.set(def.name, new Service(def));
  }

  list(): ServiceInfo[] {
    return [...this.services.values()].map((s) => s.info());
  }

  get(name: string): ServiceInfo {
    return this.find(name).info();
  }

  start(name: string): Promise<ServiceInfo> {
    const service = this.find(name);
    return this.serialize(service, () => this.doStart(service));
  }

  stop(name: string, reason = 'stopped by request'): Promise<ServiceInfo> {
    const service = this.find(name);
    return this.serialize(service, () => this.doStop(service, reason));
  }

  restart(name: string): Promise<ServiceInfo> {
    const service = this.find(name);
    return this.serialize(service, async () => {
      await this.doStop(service, 'restarting by request');
      service.restarts += 1;
      return this.doStart(service);
    });
  }

  /** Stops every service; resolves when all have exited. */
  async close(): Promise<void> {
    await Promise.all([...this.services.keys()].map((name) => this.stop(name, 'supervisor shutting down')));
  }

  private find(name: string): Service {
    const service = this.services.get(name);
    if (!service) throw new ApiError('not_found', `no service named "${name}"`, 'name');
    return service;
  }

  private serialize(service: Service, op: () => Promise<ServiceInfo>): Promise<ServiceInfo> {
    const next = service.queue.then(op, op);
    service.queue = next.catch(() => undefined);
    return next;
  }

  private transition(service: Service, state: ServiceState, reason: string): void {
    service.state = state;
    service.reason = reason;
    this.opts.onChange(service.info());
  }

  private async doStart(service: Service): Promise<ServiceInfo> {
    if (service.run) return service.info();
    const { def } = service;
    mkdirSync(this.logDir, { recursive: true });
    const log = createWriteStream(join(this.logDir, `${def.name}.log`), { flags: 'a' });
    const env = {
      [childEnv.parentPid]: String(process.pid),
      [childEnv.service]: def.name,
      [childEnv.dataDir]: this.opts.dataDir,
    };
    const builtin = def.program.type === 'builtin';
    const [file, args] =
      def.program.type === 'builtin'
        ? [process.execPath, [builtinScript(this.opts.servicesDir, def.program.name)]]
        : [def.program.command, def.program.args];
    const child = execa(file, args, {
      buffer: false,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      cleanup: true,
      forceKillAfterDelay: def.stopTimeoutMs,
      cwd: this.opts.dataDir,
      // Built-in programs run on this runtime: inside Electron that needs ELECTRON_RUN_AS_NODE.
      env: builtin ? { ...env, ELECTRON_RUN_AS_NODE: '1' } : env,
      ipc: builtin,
      serialization: 'json',
    });

    service.startedAt = Date.now();
    service.readyAt = null;
    service.lastHeartbeatAt = null;
    service.detail = null;
    pipeLines(child.stdout, log, 'out');
    pipeLines(child.stderr, log, 'err');
    log.write(`${new Date().toISOString()} [vigil] starting ${describeProgram(def)}\n`);

    const exited = child.then(async (result) => {
      const signal = result.signal ?? null;
      const code = result.exitCode ?? null;
      const failedToSpawn = code === null && signal === null;
      service.lastExit = { code, signal, at: Date.now() };
      service.run = null;
      const wasStopping = service.state === 'stopping';
      const why = failedToSpawn
        ? `could not start: ${result.shortMessage ?? result.message}`
        : signal
          ? `killed by ${signal}`
          : `exited with code ${code}`;
      log.write(`${new Date().toISOString()} [vigil] ${why}\n`);
      // The log is complete on disk before anyone is told the service stopped.
      await new Promise<void>((resolve) => log.end(resolve));
      this.transition(service, 'stopped', wasStopping ? `${service.reason ?? 'stopped'} (${why})` : why);
    });
    service.run = { process: child, exited, log };

    if (builtin) {
      child.on('message', (raw: unknown) => {
        const parsed = childMessageSchema.safeParse(raw);
        if (!parsed.success) return; // a child cannot confuse the supervisor with junk
        const message = parsed.data;
        if (message.type === 'heartbeat') {
          service.lastHeartbeatAt = message.at;
        } else if (message.type === 'ready' && service.state === 'starting') {
          service.readyAt = Date.now();
          service.detail = message.detail ?? null;
          this.transition(service, 'running', 'reported ready');
        }
      });
      this.transition(service, 'starting', 'waiting for the program to report ready');
    } else {
      child.once('spawn', () => {
        if (service.state === 'starting') this.transition(service, 'running', 'process started');
      });
      this.transition(service, 'starting', 'launching the command');
    }
    return service.info();
  }

  private async doStop(service: Service, reason: string): Promise<ServiceInfo> {
    const run = service.run;
    if (!run) return service.info();
    this.transition(service, 'stopping', reason);
    const message: ParentMessage = { type: 'stop', reason };
    if (run.process.connected) {
      try {
        run.process.send(message);
      } catch {
        // The channel may close between the check and the send; SIGTERM below still applies.
      }
    }
    run.process.kill('SIGTERM'); // execa escalates to SIGKILL after forceKillAfterDelay
    await run.exited;
    return service.info();
  }
}

function pipeLines(stream: Readable | null, log: WriteStream, tag: 'out' | 'err'): void {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (log.writable) log.write(`${new Date().toISOString()} [${tag}] ${line}\n`);
  });
}

function describeProgram(def: ServiceDefinition): string {
  return def.program.type === 'builtin'
    ? `built-in program ${def.program.name}`
    : `${def.program.command} ${def.program.args.join(' ')}`.trim();
}
