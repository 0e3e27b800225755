/**
 * Launches a service as a real process tree: its own process group (so a stop reaches every
 * descendant), a parent-death signal where the OS offers one, the IPC channel for the vigil protocol,
 * output into the service's log, and a record in the run-state file so a crashed supervisor's
 * leftovers are found at the next start. One launch path for every child (execa), as DESIGN.md says.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve, win32 } from 'node:path';
import { execa } from 'execa';
import { childEnv, type ChildBusConfig, type ParentMessage } from '../../shared/child-protocol';
import type { ServiceDefinition } from '../../shared/service-definition';
import { builtinScript } from './definitions';
import { withParentDeathSignal } from './launch-wrapper';
import {
  descendantsOf,
  groupMembers,
  processIdentity,
  snapshotProcesses,
  UNKNOWN_START_TIME,
  type ProcessIdentity,
} from './process-table';
import type { RunStateFile } from './run-state-file';
import type { ExitReport, Launcher, ProcessHandle } from './service-runner';
import type { ServiceLog } from './service-log';
import { killTree, osSignal, signalServiceTree, waitUntilGone } from './tree-kill';

export interface LaunchEnvironment {
  dataDir: string;
  servicesDir: string;
  /** The bus configuration a protocol child gets at launch. */
  bus(service: string): ChildBusConfig;
  log(service: string): ServiceLog;
  runState: RunStateFile;
}

interface Tracked {
  pgid: number;
  known: ProcessIdentity[];
  /**
   * Settles once the leader's identity is in `known` (or known to be unreadable). Reading it takes a
   * PowerShell start on Windows, so it is not awaited at launch; whatever needs the tree waits.
   */
  ready: Promise<void>;
}

export class ProcessLauncher implements Launcher {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly env: LaunchEnvironment) {}

  /** The processes of a service's tree at the last sample: a stop also reaches those that left the group. */
  track(service: string, pids: ProcessIdentity[]): void {
    const t = this.tracked.get(service);
    if (t) t.known = mergeKnown(t.known, pids);
  }

  /** True once the OS shows nothing of the service's last tree (its record goes only then). */
  async isGone(service: string): Promise<boolean> {
    const t = this.tracked.get(service);
    if (t === undefined) return true;
    await t.ready;
    return waitUntilGone(t, 0);
  }

  launch(
    def: ServiceDefinition,
    events: { onMessage(m: unknown): void; onExit(e: ExitReport): void },
  ): ProcessHandle {
    const log = this.env.log(def.name);
    const [file, args] = this.program(def);
    const cwd = def.cwd ?? this.env.dataDir;
    const missing =
      def.program.type === 'command' ? findCommand(file, cwd, def.env.PATH ?? process.env.PATH) : null;
    if (missing) {
      log.note(`cannot start: ${missing}`);
      queueMicrotask(() => events.onExit({ code: null, signal: null, error: missing }));
      return deadHandle;
    }
    const wrapped = withParentDeathSignal(file, args);
    const vigil = def.protocol === 'vigil';
    const child = execa(wrapped.file, wrapped.args, {
      cwd,
      env: {
        ...def.env,
        [childEnv.parentPid]: String(process.pid),
        [childEnv.service]: def.name,
        [childEnv.dataDir]: this.env.dataDir,
        ...(def.heartbeat ? { [childEnv.heartbeatMs]: String(def.heartbeat.intervalMs) } : {}),
        ...(vigil ? { [childEnv.bus]: JSON.stringify(this.env.bus(def.name)) } : {}),
        ...(def.config ? { [childEnv.config]: JSON.stringify(def.config) } : {}),
        // Built-in programs run on this runtime; inside Electron that needs ELECTRON_RUN_AS_NODE.
        ...(def.program.type === 'builtin' ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
      },
      // Its own session and process group: the group is how a stop reaches the whole tree.
      detached: true,
      cleanup: false, // we stop children ourselves, whole tree, with verification
      buffer: false,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      ipc: vigil,
      serialization: 'json',
    });
    void child.catch(() => undefined); // outcomes arrive through the events below
    const pid = child.pid ?? null;
    const tracked: Tracked = { pgid: pid ?? -1, known: [], ready: Promise.resolve() };
    let stopping = false;
    let reported = false;
    // After the leader's identity: on Windows the tree is found through it. A signal this platform
    // cannot send throws at once; what a signal leaves alive, waitUntilGone and kill see.
    const signalTree = (signal: NodeJS.Signals): void => {
      osSignal(signal);
      void tracked.ready.then(() => signalServiceTree(tracked, signal)).catch(() => undefined);
    };
    const report = (exit: ExitReport): void => {
      if (reported) return;
      reported = true;
      events.onExit(exit);
    };

    if (pid !== null) {
      log.note(`started ${describe(def)} as pid ${pid}`);
      log.attach(child.stdout, 'out', pid);
      log.attach(child.stderr, 'err', pid);
      this.tracked.set(def.name, tracked);
      const startedAt = Date.now();
      tracked.ready = processIdentity(pid).then((identity) => {
        // Gone already (and its record with it), or replaced by a newer launch: nothing to record.
        if (!identity || this.tracked.get(def.name) !== tracked) return;
        if (identity.startTime !== UNKNOWN_START_TIME) tracked.known = mergeKnown(tracked.known, [identity]);
        this.env.runState.put({
          service: def.name,
          pid,
          pgid: pid,
          startTime: identity.startTime,
          command: describe(def),
          startedAt,
        });
      });
      if (vigil) child.on('message', (m: unknown) => events.onMessage(m));
    }
    child.once('error', (error: Error) => {
      if (child.pid === undefined) report({ code: null, signal: null, error: error.message });
    });
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      log.note(signal ? `pid ${pid} killed by ${signal}` : `pid ${pid} exited with code ${code}`);
      // When the main process ends on its own, what it left behind goes too (systemd control-group
      // semantics); during a stop, the rest of the group keeps its grace period.
      if (!stopping && pid !== null) signalTree('SIGKILL');
      report({ code, signal });
      void this.forget(def.name, tracked);
    });
    if (pid === null) return deadHandle;

    return {
      pid,
      send: (message: ParentMessage) => {
        if (message.type === 'stop') stopping = true; // the root may now exit before the group's signal
        if (!child.connected) return false;
        try {
          child.send(message);
          return true;
        } catch {
          return false; // the channel closed between the check and the send
        }
      },
      signal: (signal) => {
        signalTree(signal);
        if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') stopping = true;
      },
      snapshot: async () => {
        await tracked.ready;
        const table = await snapshotProcesses();
        // Below the leader only while the pid is still the leader's (Windows reuses pids quickly).
        const leader = tracked.known.find((k) => k.pid === pid);
        const below =
          leader && table.get(pid)?.startTime === leader.startTime ? descendantsOf(table, pid) : [];
        tracked.known = mergeKnown(tracked.known, [...below, ...groupMembers(table, pid)]);
      },
      waitUntilGone: async (timeoutMs) => {
        const started = Date.now();
        await tracked.ready;
        return waitUntilGone(tracked, Math.max(0, timeoutMs - (Date.now() - started)));
      },
      kill: async () => {
        stopping = true;
        await tracked.ready;
        return (await killTree(tracked)).survivors;
      },
    };
  }

  /** Once the whole tree is gone, the run-state record goes too. */
  private async forget(service: string, tracked: Tracked): Promise<void> {
    await tracked.ready;
    const gone = await waitUntilGone(tracked, 60_000);
    if (!gone) await killTree(tracked);
    if (this.tracked.get(service) === tracked) {
      this.tracked.delete(service);
      this.env.runState.remove(service);
    }
  }

  private program(def: ServiceDefinition): [string, string[]] {
    return def.program.type === 'builtin'
      ? [process.execPath, [builtinScript(this.env.servicesDir, def.program.name)]]
      : [def.program.command, def.program.args];
  }
}

const deadHandle: ProcessHandle = {
  pid: null,
  send: () => false,
  signal: () => undefined,
  waitUntilGone: async () => true,
  kill: async () => [],
};

function mergeKnown(a: ProcessIdentity[], b: ProcessIdentity[]): ProcessIdentity[] {
  const seen = new Map(a.map((p) => [`${p.pid}/${p.startTime}`, p]));
  for (const p of b) seen.set(`${p.pid}/${p.startTime}`, { pid: p.pid, startTime: p.startTime });
  return [...seen.values()];
}

function describe(def: ServiceDefinition): string {
  return def.program.type === 'builtin'
    ? `built-in program ${def.program.name}`
    : [def.program.command, ...def.program.args].join(' ');
}

/**
 * A clear "not found" before spawning, instead of an exit code from a wrapper. On Windows it looks
 * where execa's spawn (cross-spawn) will: the working directory first, then PATH, each name as given
 * and with every PATHEXT extension; cross-spawn runs a .cmd or .bat through cmd.exe itself.
 */
export function findCommand(
  command: string,
  cwd: string,
  path: string | undefined,
  platform: NodeJS.Platform = process.platform,
  pathExt: string | undefined = process.env.PATHEXT,
): string | null {
  const windows = platform === 'win32';
  const extensions = windows ? ['', ...(pathExt || '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)] : [''];
  const executable = (p: string): boolean =>
    extensions.some((extension) => {
      try {
        accessSync(p + extension, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const hasDirectory = windows
    ? /[\\/]/.test(command) || win32.isAbsolute(command)
    : command.includes('/') || isAbsolute(command);
  if (hasDirectory) {
    return executable(resolve(cwd, command)) ? null : `command not found or not executable: ${command}`;
  }
  if (windows && executable(join(cwd, command))) return null;
  for (const dir of (path ?? '').split(delimiter)) if (dir && executable(join(dir, command))) return null;
  return `command not found on PATH: ${command}`;
}
