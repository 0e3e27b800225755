/**
 * Kills a service's whole process tree and verifies it is gone: its process group, the descendants
 * that left the group (setsid, as a daemonizing grandchild does) and their own groups. Identities
 * (pid + start time) guard against signalling a pid that the OS has since given to someone else.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeProcess,
  descendantsOf,
  groupMembers,
  indexProcessTable,
  processIdentitySync,
  snapshotProcesses,
  type ProcessIdentity,
  type ProcessRecord,
  type ProcessTable,
} from './process-table';

export interface KillTarget {
  /** The service's process group (the pid of the group leader Vigil spawned). */
  pgid: number;
  /** Processes known to belong to the service, e.g. from the last tree sample; they may have left the group. */
  known: ProcessIdentity[];
}

export interface Survivor {
  pid: number;
  command: string;
}

const isWindows = process.platform === 'win32';

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
  try {
    // Windows has no process groups: this reaches the leader only (killTree uses taskkill /T there).
    process.kill(isWindows ? pgid : -pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** Signals one pid, ignoring "already gone"; never ourselves or init. */
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
 * once seen in one of the target's groups, among the known pids, or below a tracked process; a
 * tracked process that leads its own group (it called setsid) adds that group.
 */
class TreeMembership {
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
  for (const member of members) signalPid(member.pid, signal);
}

async function killTreeWindows(
  target: KillTarget,
  timeoutMs: number,
  pollMs: number,
): Promise<{ survivors: Survivor[] }> {
  // No process groups or process table yet on Windows: taskkill walks the tree from the leader.
  await new Promise<void>((resolve) => {
    execFile('taskkill', ['/PID', String(target.pgid), '/T', '/F'], { windowsHide: true }, () => resolve());
  });
  for (const known of target.known) signalPid(known.pid, 'SIGKILL');
  const pids = [target.pgid, ...target.known.map((k) => k.pid)];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter((pid) => processIdentitySync(pid) !== null);
    if (alive.length === 0 || Date.now() >= deadline) {
      return { survivors: alive.map((pid) => ({ pid, command: 'unknown' })) };
    }
    await sleep(pollMs);
  }
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
  if (isWindows) return killTreeWindows(target, timeoutMs, pollMs);

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
 * Sends a signal to the target's group and to the known pids that still are who they were, without
 * waiting (the first step of a graceful stop of a whole tree).
 */
export async function signalTree(target: KillTarget, signal: NodeJS.Signals): Promise<void> {
  assertForeignGroup(target.pgid);
  if (isWindows) {
    signalPid(target.pgid, signal);
    return;
  }
  const membership = new TreeMembership(target);
  signalMembers(membership, membership.update(await snapshotProcesses()), signal);
}

/** True once the group is empty and no known pid (with the same start time) is alive. */
export async function waitUntilGone(target: KillTarget, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (isWindows) {
      const pids = [target.pgid, ...target.known.map((k) => k.pid)];
      if (pids.every((pid) => processIdentitySync(pid) === null)) return true;
    } else {
      const table = await snapshotProcesses();
      const groupEmpty = groupMembers(table, target.pgid).length === 0;
      const knownGone = target.known.every((k) => table.get(k.pid)?.startTime !== k.startTime);
      if (groupEmpty && knownGone) return true;
    }
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
}
