/** Parsing of /proc and ps output, tree walks, and one real snapshot of this machine. */
import { describe, expect, it } from 'vitest';
import {
  compareStartTimes,
  descendantsOf,
  groupMembers,
  parseProcStat,
  parsePsCpuTime,
  parsePsLine,
  processIdentity,
  processIdentitySync,
  snapshotProcesses,
  type ProcessRecord,
} from '../../src/main/supervisor/process-table';

const units = { clockTicksPerSecond: 100, pageSizeBytes: 4096 };

/** A /proc/<pid>/stat line with the given fields, the rest zero. */
function statLine(f: {
  pid: number;
  comm: string;
  state?: string;
  ppid: number;
  pgid: number;
  utime: number;
  stime: number;
  start: number;
  rss: number;
}): string {
  const after = new Array<string>(50).fill('0'); // after[i] is field i + 3
  after[0] = f.state ?? 'S';
  after[1] = String(f.ppid);
  after[2] = String(f.pgid);
  after[11] = String(f.utime);
  after[12] = String(f.stime);
  after[19] = String(f.start);
  after[21] = String(f.rss);
  return `${f.pid} (${f.comm}) ${after.join(' ')}\n`;
}

describe('parseProcStat', () => {
  it('reads the fields after a command that contains spaces and parentheses', () => {
    const line = statLine({
      pid: 4242,
      comm: 'evil) S 1 (name',
      ppid: 17,
      pgid: 4240,
      utime: 250,
      stime: 50,
      start: 123456,
      rss: 100,
    });
    expect(parseProcStat(line, units)).toEqual({
      pid: 4242,
      ppid: 17,
      pgid: 4240,
      startTime: '123456',
      rssBytes: 100 * 4096,
      cpuSeconds: 3,
      command: 'evil) S 1 (name',
      state: 'S',
    });
  });

  it('reports the state so zombies can be told apart', () => {
    const line = statLine({
      pid: 9,
      comm: 'z',
      state: 'Z',
      ppid: 1,
      pgid: 9,
      utime: 0,
      stime: 0,
      start: 5,
      rss: 0,
    });
    expect(parseProcStat(line, units)?.state).toBe('Z');
  });

  it('uses the page size and clock ticks it is given', () => {
    const line = statLine({ pid: 1, comm: 'x', ppid: 0, pgid: 1, utime: 1000, stime: 0, start: 1, rss: 2 });
    expect(parseProcStat(line, { clockTicksPerSecond: 1000, pageSizeBytes: 16384 })).toMatchObject({
      cpuSeconds: 1,
      rssBytes: 32768,
    });
  });

  it('rejects garbage', () => {
    expect(parseProcStat('', units)).toBeNull();
    expect(parseProcStat('12 no parentheses', units)).toBeNull();
    expect(parseProcStat('12 (short) S 1', units)).toBeNull();
  });
});

describe('ps output (macOS and other POSIX)', () => {
  it('parses cputime in every ps format', () => {
    expect(parsePsCpuTime('0:00.03')).toBeCloseTo(0.03);
    expect(parsePsCpuTime('12:34.50')).toBeCloseTo(754.5);
    expect(parsePsCpuTime('01:02:03')).toBe(3723);
    expect(parsePsCpuTime('2-01:00:00')).toBe(2 * 86400 + 3600);
  });

  it('parses a line whose command has spaces and whose lstart has a padded day', () => {
    const line =
      '  512     1   512  20480   0:01.50 Ss   Mon Jan  1 09:05:07 2024     /Applications/My App.app/Contents/MacOS/My App';
    expect(parsePsLine(line)).toEqual({
      pid: 512,
      ppid: 1,
      pgid: 512,
      rssBytes: 20480 * 1024,
      cpuSeconds: 1.5,
      state: 'Ss',
      startTime: 'Mon Jan 1 09:05:07 2024',
      command: '/Applications/My App.app/Contents/MacOS/My App',
    });
  });

  it('skips lines it does not understand', () => {
    expect(parsePsLine('PID PPID')).toBeNull();
  });
});

describe('compareStartTimes', () => {
  it('orders clock ticks numerically and lstart by date', () => {
    expect(compareStartTimes('900', '1000')).toBeLessThan(0);
    expect(compareStartTimes('1000', '1000')).toBe(0);
    expect(compareStartTimes('Tue Jan 2 00:00:00 2024', 'Mon Jan 1 23:59:59 2024')).toBeGreaterThan(0);
    expect(compareStartTimes('', '5')).toBeNull();
  });
});

describe('tree walks', () => {
  const rec = (pid: number, ppid: number, pgid: number): ProcessRecord => ({
    pid,
    ppid,
    pgid,
    startTime: String(pid),
    rssBytes: 0,
    cpuSeconds: 0,
    command: `p${pid}`,
  });
  // 10 ─ 11 ─ 12 (12 left the group: pgid 12), 10 ─ 13; 20 is elsewhere but joined group 10.
  const table = new Map(
    [
      rec(0, 0, 0),
      rec(1, 0, 1),
      rec(10, 1, 10),
      rec(11, 10, 10),
      rec(12, 11, 12),
      rec(13, 10, 10),
      rec(20, 1, 10),
    ].map((r) => [r.pid, r]),
  );

  it('descendantsOf includes the root and follows parent links across groups', () => {
    expect(
      descendantsOf(table, 10)
        .map((r) => r.pid)
        .sort(),
    ).toEqual([10, 11, 12, 13]);
    expect(descendantsOf(table, 12).map((r) => r.pid)).toEqual([12]);
  });

  it('descendantsOf of a missing root is empty, and pid 0 as its own parent does not loop', () => {
    expect(descendantsOf(table, 99)).toEqual([]);
    expect(descendantsOf(table, 0).length).toBe(table.size);
  });

  it('groupMembers lists a group whatever the parents', () => {
    expect(
      groupMembers(table, 10)
        .map((r) => r.pid)
        .sort(),
    ).toEqual([10, 11, 13, 20]);
    expect(groupMembers(table, 12).map((r) => r.pid)).toEqual([12]);
  });
});

describe.skipIf(process.platform === 'win32')('a real snapshot', () => {
  it('sees this process with its parent and the same identity as processIdentity', async () => {
    const table = await snapshotProcesses();
    const self = table.get(process.pid);
    expect(self).toBeDefined();
    expect(self!.ppid).toBe(process.ppid);
    expect(self!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(self!.cpuSeconds).toBeGreaterThan(0);
    expect(await processIdentity(process.pid)).toEqual({ pid: process.pid, startTime: self!.startTime });
    expect(processIdentitySync(process.pid)).toEqual({ pid: process.pid, startTime: self!.startTime });
    expect(descendantsOf(table, process.ppid).map((r) => r.pid)).toContain(process.pid);
  });

  it('has no identity for a pid that does not exist', async () => {
    expect(await processIdentity(2 ** 30)).toBeNull();
    expect(await processIdentity(0)).toBeNull();
    expect(await processIdentity(-5)).toBeNull();
  });

  it('is cheap: a whole-table snapshot takes a few milliseconds', async () => {
    await snapshotProcesses(); // warm up (getconf, JIT)
    const times: number[] = [];
    let size = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      size = (await snapshotProcesses()).size;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[10]!;
    console.log(`snapshot of ${size} processes: median ${median.toFixed(2)} ms`);
    // The goal is ~500 processes well under 50 ms (bench/process-supervision.bench.ts measures it);
    // here other test files run in parallel on a shared 2-core machine, so the bound is loose.
    expect(median).toBeLessThan(Math.max(50, size * 0.25));
  });
});
