/**
 * One snapshot of the OS process table: who is alive, who is whose parent, which group each process
 * is in, how much memory and CPU time it has used, and an identity (pid + start time) that survives
 * pid reuse. Linux reads /proc directly; macOS and other POSIX systems ask `ps` once per snapshot;
 * Windows asks WMI (Win32_Process) through one PowerShell call per snapshot.
 * Zombies are left out: they have exited, only their exit status remains.
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { win32 } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';

export interface ProcessRecord {
  pid: number;
  ppid: number;
  /** The process group; Windows has none and reports 0 for every process. */
  pgid: number;
  /**
   * Opaque identity: on Linux field 22 of /proc/<pid>/stat (clock ticks since boot); on Windows the
   * creation time as a FILETIME (100 ns units since 1601, UTC); elsewhere ps lstart.
   */
  startTime: string;
  rssBytes: number;
  /** utime + stime. */
  cpuSeconds: number;
  /** Short name (Linux comm, at most 15 characters; the image name on Windows; ps comm elsewhere). */
  command: string;
}

export type ProcessTable = Map<number, ProcessRecord>;

export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

/**
 * The start time reported where it cannot be read (a process without one, such as Windows' idle
 * process, or a Windows machine where the WMI query fails): callers must never treat two unknown
 * start times as proof that a pid still belongs to the same process.
 */
export const UNKNOWN_START_TIME = '';

const execFileAsync = promisify(execFile);
const isLinux = process.platform === 'linux';
const isWindows = process.platform === 'win32';
const validPid = (pid: number): boolean => Number.isInteger(pid) && pid > 0;

// ---------------------------------------------------------------------------------------------
// Linux: /proc/<pid>/stat

interface LinuxUnits {
  clockTicksPerSecond: number;
  pageSizeBytes: number;
}

let linuxUnits: LinuxUnits | null = null;

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** Read once per process: they never change while the machine is up. */
function getLinuxUnits(): LinuxUnits {
  linuxUnits ??= { clockTicksPerSecond: getconf('CLK_TCK', 100), pageSizeBytes: getconf('PAGESIZE', 4096) };
  return linuxUnits;
}

export interface ParsedStat extends ProcessRecord {
  /** Field 3: R, S, D, Z (zombie), X (dead), … */
  state: string;
}

/**
 * Parses one /proc/<pid>/stat line. The command (field 2) is in parentheses and may itself contain
 * spaces and ')', so the fields after it are found from the last ')'.
 */
export function parseProcStat(line: string, units: LinuxUnits): ParsedStat | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open).trim());
  // Fields from 3 on: rest[0] is field 3 (state), so field N is rest[N - 3].
  const rest = line.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const pgid = Number(rest[2]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTime = rest[19];
  const rssPages = Number(rest[21]);
  if (!state || startTime === undefined || !Number.isInteger(pid) || !Number.isFinite(rssPages)) return null;
  return {
    pid,
    ppid,
    pgid,
    startTime,
    rssBytes: Math.max(0, rssPages) * units.pageSizeBytes,
    cpuSeconds: (utime + stime) / units.clockTicksPerSecond,
    command: line.slice(open + 1, close),
    state,
  };
}

const isGone = (state: string): boolean => state === 'Z' || state === 'X' || state === 'x';

// One buffer for every read: a stat line is a few hundred bytes, reading is synchronous.
const statBuffer = Buffer.alloc(4096);

function readLinuxStat(pid: number | string): ParsedStat | null {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return null; // exited between the directory listing and now, or never existed
  }
  try {
    const length = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    return parseProcStat(statBuffer.toString('latin1', 0, length), getLinuxUnits());
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Pids read between two yields to the event loop, so a large table never blocks it for long. */
const PIDS_PER_SLICE = 256;

async function snapshotLinux(): Promise<ProcessTable> {
  const table: ProcessTable = new Map();
  const entries = readdirSync('/proc');
  let sinceYield = 0;
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid directory
    const record = readLinuxStat(entry);
    if (record && !isGone(record.state)) {
      const { state: _state, ...processRecord } = record;
      table.set(record.pid, processRecord);
    }
    if (++sinceYield === PIDS_PER_SLICE) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  return table;
}

// ---------------------------------------------------------------------------------------------
// macOS and other POSIX: ps

// The C locale keeps lstart in one fixed English format, so identities compare across calls.
const psEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
const PS_COLUMNS = 'pid=,ppid=,pgid=,rss=,time=,state=,lstart=,comm=';
// pid ppid pgid rss(KiB) cputime state lstart(5 words: "Mon Jan  1 12:00:00 2024") command(rest)
const PS_LINE =
  /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+\s+\S+\s+\d+\s+\d+:\d+:\d+\s+\d+)\s+(.*)$/;

/** ps cputime: "[[dd-]hh:]mm:ss[.cc]". */
export function parsePsCpuTime(text: string): number {
  const [days, clock] = text.includes('-') ? text.split('-', 2) : ['0', text];
  let seconds = 0;
  for (const part of (clock ?? '').split(':')) seconds = seconds * 60 + Number(part);
  const total = Number(days) * 86_400 + seconds;
  return Number.isFinite(total) ? total : 0;
}

const normalizeLstart = (text: string): string => text.trim().split(/\s+/).join(' ');

export function parsePsLine(line: string): (ProcessRecord & { state: string }) | null {
  const m = PS_LINE.exec(line);
  if (!m) return null;
  return {
    pid: Number(m[1]),
    ppid: Number(m[2]),
    pgid: Number(m[3]),
    rssBytes: Number(m[4]) * 1024,
    cpuSeconds: parsePsCpuTime(m[5] ?? ''),
    state: m[6] ?? '',
    startTime: normalizeLstart(m[7] ?? ''),
    command: (m[8] ?? '').trim(),
  };
}

async function snapshotPs(): Promise<ProcessTable> {
  const { stdout } = await execFileAsync('ps', ['-A', '-o', PS_COLUMNS], {
    env: psEnv,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 10_000,
  });
  const table: ProcessTable = new Map();
  for (const line of stdout.split('\n')) {
    const record = parsePsLine(line);
    if (record && !record.state.startsWith('Z')) {
      const { state: _state, ...processRecord } = record;
      table.set(record.pid, processRecord);
    }
  }
  return table;
}

function parsePsIdentity(pid: number, stdout: string): ProcessIdentity | null {
  const m = /^\s*(\S+)\s+(.+)$/.exec(stdout.trim());
  if (!m || m[1]!.startsWith('Z')) return null;
  return { pid, startTime: normalizeLstart(m[2]!) };
}

// ---------------------------------------------------------------------------------------------
// Windows: Win32_Process through PowerShell

/**
 * The columns of the CSV the query writes. Created is CreationDate as a FILETIME (an integer, so the
 * identity does not depend on the culture's date format); KernelModeTime and UserModeTime are in
 * 100 ns units (Win32_Process's Units qualifier); WorkingSetSize is in bytes.
 */
const WINDOWS_COLUMNS = [
  'ProcessId',
  'ParentProcessId',
  'Created',
  'WorkingSetSize',
  'KernelModeTime',
  'UserModeTime',
  'Name',
] as const;

const WMI_PROPERTIES =
  'ProcessId,ParentProcessId,CreationDate,WorkingSetSize,KernelModeTime,UserModeTime,Name';

/**
 * The PowerShell command that prints the process table (or one pid's row) as CSV. One WMI query:
 * -Property fetches only the columns used. The script has no double quotes, so Windows' command-line
 * quoting cannot change it. UTF-8 output keeps non-ASCII image names intact whatever the console
 * code page; the idle process has no CreationDate, hence the null check.
 */
export function windowsProcessQuery(
  pid?: number,
  systemRoot: string | undefined = process.env.SystemRoot,
): { file: string; args: string[] } {
  if (pid !== undefined && !validPid(pid)) throw new RangeError(`not a process id: ${pid}`);
  const filter = pid === undefined ? '' : ` -Filter 'ProcessId=${pid}'`;
  const script = [
    "$ErrorActionPreference='Stop'",
    "$ProgressPreference='SilentlyContinue'",
    'try{[Console]::OutputEncoding=[Text.UTF8Encoding]::new($false)}catch{}',
    `Get-CimInstance -ClassName Win32_Process -Property ${WMI_PROPERTIES}${filter}` +
      ' | Select-Object ProcessId,ParentProcessId,' +
      "@{n='Created';e={if($_.CreationDate){$_.CreationDate.ToUniversalTime().ToFileTimeUtc()}}}," +
      'WorkingSetSize,KernelModeTime,UserModeTime,Name' +
      ' | ConvertTo-Csv -NoTypeInformation',
  ].join('; ');
  // The full path: PATH may lack it (or offer someone else's powershell.exe first).
  const file = systemRoot
    ? win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe')
    : 'powershell.exe';
  return { file, args: ['-NoProfile', '-NonInteractive', '-Command', script] };
}

/**
 * RFC 4180 CSV: quoted fields with doubled quotes and line breaks inside, empty fields quoted or not,
 * CRLF or LF line ends, a leading byte-order mark. Blank lines are skipped.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = (): void => {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
  }
  if (quoted) throw new Error('CSV ends inside a quoted field');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

const wholeNumber = (text: string | undefined): number => {
  const value = Number(text);
  return text && /^\d+$/.test(text) && Number.isSafeInteger(value) ? value : 0;
};

/**
 * The table from the query's CSV. Windows does not re-parent orphans: a process keeps the pid of its
 * dead parent as ParentProcessId, and once that pid is reused the link names a stranger. So a parent
 * link whose current holder was created after the child is cut (ppid 0): that holder cannot be its
 * parent (Win32_Process documentation, ParentProcessId). A link to a pid nobody holds is kept: it is
 * how the orphans of a dead process are found (orphansOf). Windows has no process groups: pgid is 0.
 */
export function parseWindowsProcessCsv(text: string): ProcessTable {
  const table: ProcessTable = new Map();
  const [header, ...rows] = parseCsv(text);
  if (!header) return table; // no process matched the filter: PowerShell prints nothing at all
  const column = new Map(header.map((name, index) => [name, index]));
  const missing = WINDOWS_COLUMNS.filter((name) => !column.has(name));
  if (missing.length > 0) {
    throw new Error(
      `the Windows process list lacks the column(s) ${missing.join(', ')} (header: ${header.join(',')})`,
    );
  }
  const at = (row: string[], name: (typeof WINDOWS_COLUMNS)[number]): string | undefined =>
    row[column.get(name)!];
  for (const row of rows) {
    const pidText = at(row, 'ProcessId');
    if (!pidText || !/^\d+$/.test(pidText)) continue;
    const created = at(row, 'Created') ?? '';
    table.set(Number(pidText), {
      pid: Number(pidText),
      ppid: wholeNumber(at(row, 'ParentProcessId')),
      pgid: 0,
      startTime: /^\d+$/.test(created) ? created : UNKNOWN_START_TIME,
      rssBytes: wholeNumber(at(row, 'WorkingSetSize')),
      cpuSeconds: (wholeNumber(at(row, 'KernelModeTime')) + wholeNumber(at(row, 'UserModeTime'))) / 1e7,
      command: at(row, 'Name') ?? '',
    });
  }
  for (const record of table.values()) {
    const holder = table.get(record.ppid);
    if (holder && holder !== record && (compareStartTimes(holder.startTime, record.startTime) ?? 0) > 0) {
      record.ppid = 0;
    }
  }
  return table;
}

const windowsExecOptions = { windowsHide: true, maxBuffer: 64 * 1024 * 1024, timeout: 15_000 } as const;

const errorText = (error: unknown): string => {
  const stderr = (error as { stderr?: unknown }).stderr;
  const detail = typeof stderr === 'string' ? stderr.trim().split(/\r?\n/)[0] : '';
  return [(error as Error).message?.split('\n')[0], detail].filter(Boolean).join(': ');
};

async function snapshotWindows(pid?: number): Promise<ProcessTable> {
  const { file, args } = windowsProcessQuery(pid);
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(file, args, { ...windowsExecOptions, encoding: 'utf8' }));
  } catch (error) {
    throw new Error(`reading the process table through PowerShell failed: ${errorText(error)}`);
  }
  return parseWindowsProcessCsv(stdout);
}

function snapshotWindowsSync(pid: number): ProcessTable {
  const { file, args } = windowsProcessQuery(pid);
  const stdout = execFileSync(file, args, {
    ...windowsExecOptions,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseWindowsProcessCsv(stdout);
}

/**
 * Where the WMI query itself fails (PowerShell missing or blocked), existence is all that can be
 * told: the pid answers, with an unknown start time.
 */
function windowsExistence(pid: number): ProcessIdentity | null {
  try {
    process.kill(pid, 0);
    return { pid, startTime: UNKNOWN_START_TIME };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? { pid, startTime: UNKNOWN_START_TIME } : null;
  }
}

const identityIn = (table: ProcessTable, pid: number): ProcessIdentity | null => {
  const record = table.get(pid);
  return record ? { pid, startTime: record.startTime } : null;
};

// ---------------------------------------------------------------------------------------------
// Public API

/** The whole process table, keyed by pid. */
export async function snapshotProcesses(): Promise<ProcessTable> {
  if (isLinux) return snapshotLinux();
  if (isWindows) return snapshotWindows();
  return snapshotPs();
}

/** The identity of one live process, or null if it is gone (or a zombie). */
export async function processIdentity(pid: number): Promise<ProcessIdentity | null> {
  if (!validPid(pid)) return null;
  if (isLinux) return processIdentitySync(pid);
  if (isWindows) {
    try {
      return identityIn(await snapshotWindows(pid), pid);
    } catch {
      return windowsExistence(pid);
    }
  }
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'state=,lstart=', '-p', String(pid)], {
      env: psEnv,
      timeout: 5000,
    });
    return parsePsIdentity(pid, stdout);
  } catch {
    return null; // ps exits 1 when the pid does not exist
  }
}

/**
 * processIdentity for callers that must stay synchronous (the data-directory lock). On Windows this
 * blocks for a PowerShell start (a fraction of a second): keep it off hot paths.
 */
export function processIdentitySync(pid: number): ProcessIdentity | null {
  if (!validPid(pid)) return null;
  if (isLinux) {
    const stat = readLinuxStat(pid);
    return stat && !isGone(stat.state) ? { pid, startTime: stat.startTime } : null;
  }
  if (isWindows) {
    try {
      return identityIn(snapshotWindowsSync(pid), pid);
    } catch {
      return windowsExistence(pid);
    }
  }
  try {
    const stdout = execFileSync('ps', ['-o', 'state=,lstart=', '-p', String(pid)], {
      env: psEnv,
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return parsePsIdentity(pid, stdout);
  } catch {
    return null;
  }
}

/**
 * The start time of whatever holds a pid, a zombie included (Linux; elsewhere the live identity, and
 * nothing on Windows): tells whether a pid number is still taken, and by whom.
 */
export function startTimeEvenIfZombie(pid: number): string | null {
  if (!validPid(pid)) return null;
  if (isLinux) return readLinuxStat(pid)?.startTime ?? null;
  // Windows keeps no zombies, and a live holder is in the snapshot the caller already has: asking
  // again would cost a PowerShell start for nothing.
  if (isWindows) return null;
  return processIdentitySync(pid)?.startTime ?? null;
}

/**
 * Orders two start times of this platform: negative if a started before b. Null when they cannot be
 * compared (unknown or unparseable).
 */
export function compareStartTimes(a: string, b: string): number | null {
  if (a === UNKNOWN_START_TIME || b === UNKNOWN_START_TIME) return null;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const diff = BigInt(a) - BigInt(b);
    return diff === 0n ? 0 : diff < 0n ? -1 : 1;
  }
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isNaN(ta) || Number.isNaN(tb) ? null : Math.sign(ta - tb);
}

/** The full command line of a process, for messages that name survivors; falls back to `fallback`. */
export function describeProcess(pid: number, fallback: string): string {
  if (!isLinux) return fallback;
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
    return text ? text.slice(0, 300) : fallback;
  } catch {
    return fallback;
  }
}

export interface ProcessTableIndex {
  childrenOf: Map<number, ProcessRecord[]>;
  membersOf: Map<number, ProcessRecord[]>;
}

/** Parent and group indexes, for callers that walk many trees of one snapshot. */
export function indexProcessTable(table: ProcessTable): ProcessTableIndex {
  const childrenOf = new Map<number, ProcessRecord[]>();
  const membersOf = new Map<number, ProcessRecord[]>();
  for (const record of table.values()) {
    const siblings = childrenOf.get(record.ppid);
    if (siblings) siblings.push(record);
    else childrenOf.set(record.ppid, [record]);
    const members = membersOf.get(record.pgid);
    if (members) members.push(record);
    else membersOf.set(record.pgid, [record]);
  }
  return { childrenOf, membersOf };
}

/** The root (if alive) and every process below it by parent links. */
export function descendantsOf(
  table: ProcessTable,
  rootPid: number,
  index: ProcessTableIndex = indexProcessTable(table),
): ProcessRecord[] {
  const root = table.get(rootPid);
  if (!root) return [];
  const found: ProcessRecord[] = [root];
  const seen = new Set<number>([rootPid]);
  for (let i = 0; i < found.length; i++) {
    for (const child of index.childrenOf.get(found[i]!.pid) ?? []) {
      if (seen.has(child.pid)) continue; // pid 0 is its own parent on some systems
      seen.add(child.pid);
      found.push(child);
    }
  }
  return found;
}

/**
 * The live children of a process that has died, identified by pid and start time: their recorded
 * parent is its pid and they started no earlier than it did. Only Windows leaves such links (POSIX
 * re-parents orphans), so elsewhere this is empty. Also empty while the pid is held by any process
 * (parseWindowsProcessCsv cut the links older than a new holder), or the start time is unknown.
 */
export function orphansOf(
  table: ProcessTable,
  parent: ProcessIdentity,
  index: ProcessTableIndex = indexProcessTable(table),
): ProcessRecord[] {
  if (parent.pid <= 1 || table.has(parent.pid) || parent.startTime === UNKNOWN_START_TIME) return [];
  return (index.childrenOf.get(parent.pid) ?? []).filter(
    (child) => (compareStartTimes(child.startTime, parent.startTime) ?? -1) >= 0,
  );
}

/** Every live process whose process group is pgid. */
export function groupMembers(table: ProcessTable, pgid: number, index?: ProcessTableIndex): ProcessRecord[] {
  if (index) return [...(index.membersOf.get(pgid) ?? [])];
  const members: ProcessRecord[] = [];
  for (const record of table.values()) if (record.pgid === pgid) members.push(record);
  return members;
}
