/**
 * CPU and memory of whole process trees (a service's leader, its descendants and the rest of its
 * process group; Windows has no groups), from one process-table snapshot per call however many trees
 * are sampled.
 */
import {
  descendantsOf,
  groupMembers,
  indexProcessTable,
  snapshotProcesses,
  type ProcessRecord,
  type ProcessTable,
} from './process-table';

export interface TreeUsage {
  /** Percent of one core, 0..100 × cores (the pidusage convention). */
  cpuPercent: number;
  rssBytes: number;
  pids: { pid: number; startTime: string }[];
}

export interface TreeRoot {
  key: string;
  pid: number;
  pgid: number;
}

const identityKey = (record: ProcessRecord): string => `${record.pid}/${record.startTime}`;

export class TreeSampler {
  /** CPU seconds per process identity at the previous sample; pid reuse starts a fresh count. */
  private previousCpu = new Map<string, number>();
  private previousAt: number | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly snapshot: () => Promise<ProcessTable> = snapshotProcesses) {}

  /** One snapshot for all roots. Overlapping calls run one after the other. */
  sample(roots: TreeRoot[]): Promise<Map<string, TreeUsage>> {
    const result = this.running.then(() => this.sampleNow(roots));
    this.running = result.catch(() => undefined);
    return result;
  }

  private async sampleNow(roots: TreeRoot[]): Promise<Map<string, TreeUsage>> {
    const table = await this.snapshot();
    const now = performance.now();
    const wallSeconds = this.previousAt === null ? 0 : (now - this.previousAt) / 1000;
    const index = indexProcessTable(table);
    const nextCpu = new Map<string, number>();
    const usage = new Map<string, TreeUsage>();

    for (const root of roots) {
      const members = new Map<number, ProcessRecord>();
      for (const record of descendantsOf(table, root.pid, index)) members.set(record.pid, record);
      if (root.pgid > 1)
        for (const record of groupMembers(table, root.pgid, index)) members.set(record.pid, record);

      let cpuSeconds = 0;
      let rssBytes = 0;
      const pids: TreeUsage['pids'] = [];
      for (const record of members.values()) {
        const key = identityKey(record);
        const before = this.previousCpu.get(key);
        // A process seen for the first time counts 0: its earlier CPU time was not spent in this interval.
        if (before !== undefined) cpuSeconds += Math.max(0, record.cpuSeconds - before);
        nextCpu.set(key, record.cpuSeconds);
        rssBytes += record.rssBytes;
        pids.push({ pid: record.pid, startTime: record.startTime });
      }
      usage.set(root.key, {
        cpuPercent: wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0,
        rssBytes,
        pids,
      });
    }
    // Only what is still alive and sampled is remembered.
    this.previousCpu = nextCpu;
    this.previousAt = now;
    return usage;
  }
}
