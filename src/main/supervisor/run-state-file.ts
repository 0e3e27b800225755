/**
 * The run-state file: which process each running service is (pid, group, start time), written on
 * every start and exit so that the next Vigil, after a crash or a SIGKILL of this one, can find and
 * stop what was left running before it starts anything (reference c8.4).
 */
import { readFileSync, renameSync, unlinkSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomically } from './atomic-file';
import {
  compareStartTimes,
  descendantsOf,
  groupMembers,
  indexProcessTable,
  orphansOf,
  snapshotProcesses,
  startTimeEvenIfZombie,
  UNKNOWN_START_TIME,
  type ProcessRecord,
} from './process-table';
import { killTree, signalTree, waitUntilGone, type KillTarget } from './tree-kill';

export interface RunRecord {
  service: string;
  pid: number;
  pgid: number;
  startTime: string;
  command: string;
  startedAt: number;
}

/** Where problems that do not stop anything are reported (console by default). */
export interface WarningLogger {
  warn(message: string): void;
}

const runRecordSchema = z.object({
  service: z.string().min(1),
  pid: z.number().int().positive(),
  pgid: z.number().int().nonnegative(),
  startTime: z.string(),
  command: z.string(),
  startedAt: z.number(),
});
const fileSchema = z.object({ version: z.literal(1), records: z.array(z.unknown()) });

export class RunStateFile {
  private records: Map<string, RunRecord> | null = null;

  constructor(
    readonly path: string,
    private readonly logger: WarningLogger = console,
  ) {}

  /**
   * The records on disk. A missing file is an empty list; a corrupt one is moved aside (never silently
   * wiped) and reported, and the list is empty. Never throws.
   */
  load(): RunRecord[] {
    this.records = new Map();
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn(`run-state file ${this.path} could not be read (${String(error)}); starting empty`);
      }
      return [];
    }
    let parsed: z.infer<typeof fileSchema>;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (error) {
      const aside = `${this.path}.corrupt-${Date.now()}`;
      try {
        renameSync(this.path, aside);
      } catch {
        // Leave it where it is; the next write replaces it.
      }
      this.logger.warn(
        `run-state file ${this.path} is corrupt (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); moved to ${aside}, starting empty`,
      );
      return [];
    }
    for (const raw of parsed.records) {
      const record = runRecordSchema.safeParse(raw);
      if (record.success) this.records.set(record.data.service, record.data);
      else this.logger.warn(`run-state file ${this.path}: skipping an invalid record ${JSON.stringify(raw)}`);
    }
    return [...this.records.values()];
  }

  /** Records (or replaces) the process of one service. */
  put(record: RunRecord): void {
    this.current().set(record.service, { ...record });
    this.save();
  }

  remove(service: string): void {
    if (this.current().delete(service)) this.save();
  }

  /** Forgets every record (after the leftovers of a previous run have been dealt with). */
  clear(): void {
    this.records = new Map();
    this.save();
  }

  private current(): Map<string, RunRecord> {
    if (!this.records) this.load();
    return this.records!;
  }

  private save(): void {
    const records = [...this.current().values()];
    if (records.length === 0) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already absent.
      }
      return;
    }
    // Written on every launch (the restart hot path); no fsync needed: see writeFileAtomically.
    writeFileAtomically(this.path, `${JSON.stringify({ version: 1, records }, null, 2)}\n`, {
      durable: false,
    });
  }
}

export interface ReconcileOptions {
  /** How long the tree gets to exit after SIGTERM before it is killed (default 2000 ms). */
  termTimeoutMs?: number;
  /** How long killTree keeps verifying (default 5000 ms). */
  killTimeoutMs?: number;
  pollMs?: number;
  logger?: WarningLogger;
}

export interface ReconcileResult {
  /** Records whose processes were found from the previous run and stopped. */
  killed: RunRecord[];
  /** Records whose process is gone, or whose pid now belongs to another process: nothing to do. */
  gone: RunRecord[];
  /** Processes that would not die. */
  survivors: { service: string; pid: number; command: string }[];
}

/**
 * What of a record's tree is still alive. The leader counts only if its start time matches; its
 * group counts only if it still leads it. If the leader is gone but its group lives on (orphans of
 * a leader that died while no Vigil was watching), the group counts only while no process holds the
 * leader's pid (else the group id may have been reused) and only members started no earlier than the
 * leader did. Windows has no groups: there the leader's orphans are the processes whose parent link
 * still names its pid (orphansOf), under the same conditions.
 */
function leftoverTree(record: RunRecord, table: Map<number, ProcessRecord>): KillTarget | null {
  const index = indexProcessTable(table);
  const leader = table.get(record.pid);
  if (leader) {
    if (leader.startTime !== record.startTime || record.startTime === UNKNOWN_START_TIME) return null;
    // A pid that is alive and not a group leader cannot share its number with a live group, so
    // kill(-pid) reaches the leader's own group or nothing.
    const tree = new Map<number, ProcessRecord>();
    for (const p of descendantsOf(table, record.pid, index)) tree.set(p.pid, p);
    for (const p of groupMembers(table, record.pid, index)) tree.set(p.pid, p);
    return { pgid: record.pid, known: [...tree.values()].map(({ pid, startTime }) => ({ pid, startTime })) };
  }
  if (record.pgid !== record.pid) return null;
  // A zombie holding the pid is the dead leader itself (same start time) or a stranger's.
  const holder = startTimeEvenIfZombie(record.pid);
  if (holder !== null && holder !== record.startTime) return null;
  const orphans = [...groupMembers(table, record.pgid, index), ...orphansOf(table, record, index)].filter(
    (p) => (compareStartTimes(p.startTime, record.startTime) ?? -1) >= 0,
  );
  if (orphans.length === 0) return null;
  const known = new Map<number, ProcessRecord>();
  for (const orphan of orphans) for (const p of descendantsOf(table, orphan.pid, index)) known.set(p.pid, p);
  return { pgid: record.pgid, known: [...known.values()].map(({ pid, startTime }) => ({ pid, startTime })) };
}

/**
 * Stops what a previous run left behind: for every record whose process is still the same process
 * (pid alive and start time equal), SIGTERM to its tree, up to termTimeoutMs to exit, then killTree.
 * Records whose process is gone or whose pid was reused are dropped. Trees are handled in parallel.
 */
export async function reconcileLeftovers(
  records: RunRecord[],
  opts: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const { termTimeoutMs = 2000, killTimeoutMs = 5000, pollMs = 100, logger = console } = opts;
  const result: ReconcileResult = { killed: [], gone: [], survivors: [] };
  if (records.length === 0) return result;
  const table = await snapshotProcesses();

  await Promise.all(
    records.map(async (record) => {
      const target = leftoverTree(record, table);
      if (!target) {
        result.gone.push(record);
        return;
      }
      try {
        await stopLeftover(record, target);
      } catch (error) {
        logger.warn(
          `service ${record.service}: could not stop what the previous run left (${String(error)})`,
        );
        result.survivors.push({ service: record.service, pid: record.pid, command: record.command });
      }
    }),
  );
  return result;

  async function stopLeftover(record: RunRecord, target: KillTarget): Promise<void> {
    logger.warn(
      `service ${record.service} was left running by a previous run (pid ${record.pid}, ${target.known.length} process(es)); stopping it`,
    );
    await signalTree(target, 'SIGTERM');
    if (!(await waitUntilGone(target, termTimeoutMs, pollMs))) {
      const { survivors } = await killTree(target, { timeoutMs: killTimeoutMs, pollMs });
      for (const s of survivors) result.survivors.push({ service: record.service, ...s });
      if (survivors.length > 0) {
        logger.warn(
          `service ${record.service}: ${survivors.map((s) => `${s.pid} (${s.command})`).join(', ')} would not die`,
        );
      }
    }
    result.killed.push(record);
  }
}
