/**
 * Kills a service's whole process tree and verifies it is gone: its process group, the descendants
 * that left the group (setsid, as a daemonizing grandchild does) and their own groups. Identities
 * (pid + start time) guard against signalling a pid that the OS has since given to someone else.
 *
 * Windows has no process groups and no signals: there the tree is the known processes, everything
 * below them by parent links, and the orphans of those that died (their parent link still names the
 * dead pid); every signal that stops a process becomes TerminateProcess (what Node's process.kill
 * does there), and the process table confirms the end as everywhere else.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopSignals } from '../../shared/service-definition';
import {
  describeProcess,
  descendantsOf,
  groupMembers,
  indexProcessTable,
  orphansOf,
  snapshotProcesses,
  type ProcessIdentity,
  type ProcessRecord,
  type ProcessTable,
} from './process-table';

export interface KillTarget {
  /**
   * The service's process group (the pid of the group leader Vigil spawned). On Windows, which has no
   * groups, the leader's pid; the leader itself is found through its identity in `known`.
   */
  pgid: number;
  /** Processes known to belong to the service, e.g. from the last tree sample; they may have left the group. */
  known: ProcessIdentity[];
}

export interface Survivor {
  pid: number;
  command: string;
}

const isWindows = process.platform === 'win32';

const ending = new Set<string>(['SIGKILL', ...stopSignals]);

/**
 * The signal to hand to process.kill. On Windows only termination exists (libuv maps SIGTERM, SIGINT
 * and SIGKILL to TerminateProcess and knows no SIGUSR1 or SIGSTOP), so every stop signal becomes
 * SIGKILL there and anything else, such as a pause, is refused with a clear error.
 */
export function osSignal(
  signal: NodeJS.Signals,
  platform: NodeJS.Platform = process.platform,
): NodeJS.Signals {
  if (platform !== 'win32' || (signal as unknown) === 0) return signal;
  if (ending.has(signal)) return 'SIGKILL';
  throw new Error(`${signal} cannot be sent on Windows: a process there can only be terminated`);
}

let ownGroup: number | null | undefined;

/** Our own process group on Linux (elsewhere unknown): signalling it would kill the supervisor. */
function ownProcessGroup(): number | null {
  if (ownGroup === undefined) {
    try {
      const stat = readFileSync('/proc/self/stat', 'latin1');
      ownGroup = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) || null;
    } catch {
      ownGroup = null;
    }
  }
  return ownGroup;
}

/**
 * kill(-pgid) with -0 meaning "our own group" and -1 meaning "every process we may signal": refuse
 * anything that is not plainly someone else's group.
 */
function assertForeignGroup(pgid: number): void {
  if (!Number.isInteger(pgid) || pgid <= 1 || pgid === process.pid || pgid === ownProcessGroup()) {
    throw new RangeError(`refusing to signal process group ${pgid}`);
  }
}

/** Sends a signal to every process in a group. False when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  assertForeignGroup(pgid);
  const sent = osSignal(signal);
  try {
    // Windows has no process groups: this reaches the leader only (signalServiceTree ends the tree).
    process.kill(isWindows ? pgid : -pgid, sent);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Signals one pid, ignoring "already gone"; never ourselves or init. The signal is osSignal's. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours to kill; it will be reported as a survivor.
  }
}

function signalGroupQuietly(pgid: number, signal: NodeJS.Signals): void {
  try {
    signalGroup(pgid, signal);
  } catch {
    // EPERM or a refused group: whatever is left is reported as a survivor.
  }
}

/**
 * Pids a kill must never reach whatever the target says: init, the supervisor itself and its
 * ancestors (a wrong `known` entry must not take down the shell or the Electron app that runs us).
 */
function ourselvesAndAncestors(table: ProcessTable): Set<number> {
  const pids = new Set<number>([0, 1]);
  for (let pid = process.pid; pid > 1 && !pids.has(pid); pid = table.get(pid)?.ppid ?? 0) pids.add(pid);
  return pids;
}

/**
 * Everything that belongs to a target, tracked across snapshots. A process is tracked by identity
 * once seen in one of the target's groups, among the known pids, below a tracked process, or as an
 * orphan of a known or tracked process that has died (Windows); a tracked process that leads its own
 * group (it called setsid) adds that group.
 */
export class TreeMembership {
  private readonly tracked = new Map<number, ProcessRecord>();
  readonly groups = new Set<number>();

  constructor(private readonly target: KillTarget) {
    this.groups.add(target.pgid);
  }

  /** Updates membership from a snapshot and returns the live members. */
  update(table: ProcessTable): ProcessRecord[] {
    const index = indexProcessTable(table);
    const protectedPids = ourselvesAndAncestors(table);
    const live = new Map<number, ProcessRecord>();
    const add = (record: ProcessRecord): void => {
      if (!protectedPids.has(record.pid)) live.set(record.pid, record);
    };
    for (const [pid, record] of this.tracked) {
      const now = table.get(pid);
      if (now && now.startTime === record.startTime) add(now);
    }
    for (const known of this.target.known) {
      const now = table.get(known.pid);
      if (now && now.startTime === known.startTime) add(now);
    }
    // Their orphans: on Windows the dead parent's pid is the only link left (empty on POSIX).
    for (const identity of [...this.tracked.values(), ...this.target.known]) {
      for (const orphan of orphansOf(table, identity, index)) add(orphan);
    }
    for (const pgid of this.groups) {
      const members = groupMembers(table, pgid, index);
      // An emptied group is done with for good: its number may later be reused by someone else's
      // group (a live group's number never is, so a group seen non-empty every round is still ours).
      if (members.length === 0) this.groups.delete(pgid);
      for (const member of members) add(member);
    }
    // Children of members are members, wherever their group is; their groups are ours too.
    for (const record of [...live.values()]) {
      for (const descendant of descendantsOf(table, record.pid, index)) add(descendant);
    }
    this.tracked.clear();
    for (const record of live.values()) {
      this.tracked.set(record.pid, record);
      if (record.pgid === record.pid && record.pid > 1) this.groups.add(record.pid);
    }
    return [...live.values()];
  }
}

function signalMembers(membership: TreeMembership, members: ProcessRecord[], signal: NodeJS.Signals): void {
  for (const pgid of membership.groups) signalGroupQuietly(pgid, signal);
  const sent = osSignal(signal);
  for (const member of members) signalPid(member.pid, sent);
}

/**
 * SIGKILLs the target's group and every process that belongs to it (see TreeMembership), then polls
 * until none is left or the timeout passes. Zombies count as gone. Returns the survivors by name.
 * Rejects with a RangeError for a pgid that is not plainly someone else's group (≤ 1, or ours).
 */
export async function killTree(
  target: KillTarget,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<{ survivors: Survivor[] }> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const pollMs = opts.pollMs ?? 100;
  assertForeignGroup(target.pgid);

  const deadline = Date.now() + timeoutMs;
  const membership = new TreeMembership(target);
  // Snapshot before killing: once a parent dies its children are re-parented and the links that
  // reveal escaped descendants are lost.
  let members = membership.update(await snapshotProcesses());
  signalMembers(membership, members, 'SIGKILL');
  // SIGKILL takes effect within milliseconds: look again soon, then at the polling pace.
  let wait = Math.min(pollMs, 20);
  for (;;) {
    await sleep(wait);
    wait = pollMs;
    members = membership.update(await snapshotProcesses());
    if (members.length === 0) return { survivors: [] };
    if (Date.now() >= deadline) {
      return { survivors: members.map((m) => ({ pid: m.pid, command: describeProcess(m.pid, m.command) })) };
    }
    // Anything forked since the last round gets the same treatment.
    signalMembers(membership, members, 'SIGKILL');
  }
}

/**
 * Sends a signal to every process of the target (see TreeMembership) without waiting: the first step
 * of a graceful stop of a whole tree. On Windows a stop signal terminates them.
 */
export async function signalTree(target: KillTarget, signal: NodeJS.Signals): Promise<void> {
  assertForeignGroup(target.pgid);
  osSignal(signal); // refuses what this platform cannot send before anything is sent
  const membership = new TreeMembership(target);
  signalMembers(membership, membership.update(await snapshotProcesses()), signal);
}

/**
 * Sends a signal to a running service's tree right away, without waiting: its process group on POSIX.
 * Windows has neither groups nor signals: there a stop signal ends the whole tree (see signalTree),
 * which takes a snapshot, in the background; a signal Windows cannot send throws here.
 */
export function signalServiceTree(target: KillTarget, signal: NodeJS.Signals): void {
  if (!isWindows) {
    signalGroup(target.pgid, signal);
    return;
  }
  assertForeignGroup(target.pgid);
  osSignal(signal);
  void signalTree(target, signal).catch(() => undefined); // waitUntilGone and killTree report what is left
}

/** True once nothing of the target is alive: its groups, the known pids (same start time), what is below them. */
export async function waitUntilGone(target: KillTarget, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const membership = new TreeMembership(target);
  for (;;) {
    if (membership.update(await snapshotProcesses()).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
}
