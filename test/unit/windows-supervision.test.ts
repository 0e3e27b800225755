/**
 * Windows process supervision, tested here without Windows: the PowerShell command line, the CSV it
 * prints (fixtures in the shape PowerShell 5.1 and 7 write), the tree logic on such tables, where
 * orphans are never re-parented and pids are reused, and the command and bus-pipe lookups.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/services/bus/peer-link';
import { busSocketPath } from '../../src/main/supervisor/bus-address';
import { findCommand } from '../../src/main/supervisor/process-launcher';
import {
  descendantsOf,
  orphansOf,
  parseCsv,
  parseWindowsProcessCsv,
  windowsProcessQuery,
  type ProcessTable,
} from '../../src/main/supervisor/process-table';
import { osSignal, TreeMembership } from '../../src/main/supervisor/tree-kill';
import { TreeSampler } from '../../src/main/supervisor/tree-sampler';
import { tempDir } from '../helpers/temp-dir';

const HEADER =
  '"ProcessId","ParentProcessId","Created","WorkingSetSize","KernelModeTime","UserModeTime","Name"';

/**
 * What `Get-CimInstance Win32_Process | Select-Object … | ConvertTo-Csv -NoTypeInformation` prints on
 * Windows PowerShell 5.1: every field quoted, CRLF line ends, an empty Created for the idle process.
 * Created is a FILETIME; T0 = 133594560000000000 is 2024-05-06T08:00:00Z, when Vigil (39812) started.
 *
 * 640, 716: children of smss's dead instance 620 (an orphan's ppid names a dead pid).
 * 41236: a service (python.exe) with conhost, a grandchild, and a comma in a child's name.
 * 41400: ppid 41236 but created a minute before it: the child of an earlier holder of that pid.
 * 41496: a service root that died; 41500 is its orphan, 41508 the orphan of an older 41496.
 */
const PS51_ROWS = [
  '"0","0","","8192","1572387979687500","0","System Idle Process"',
  '"4","0","133594524005000000","151552","32010937500","0","System"',
  '"120","4","133594524006000000","73728000","5468750","0","Registry"',
  '"456","4","133594524012500000","1236992","156250","0","smss.exe"',
  '"640","620","133594524031045120","6025216","2031250","468750","csrss.exe"',
  '"716","620","133594524031045120","7446528","156250","312500","wininit.exe"',
  '"4728","4700","133594524317760320","245760000","112500000","187500000","explorer.exe"',
  '"39812","4728","133594560000000000","187432960","31250000","93750000","Vigil.exe"',
  '"41004","39812","133594560640000000","65536000","2500000","3125000","powershell.exe"',
  '"41236","39812","133594560050000000","52428800","1250000","8750000","python.exe"',
  '"41240","41236","133594560050156000","11534336","156250","0","conhost.exe"',
  '"41300","41236","133594560060000000","20971520","468750","2031250","Büro-Überwachung.exe"',
  '"41304","41300","133594560070000000","15728640","312500","1562500","データ収集.exe"',
  '"41312","41236","133594560080000000","9437184","0","156250","worker, fast.exe"',
  '"41400","41236","133594559400000000","3145728","0","0","stale-child.exe"',
  '"41500","41496","133594560100000000","31457280","781250","2968750","node.exe"',
  '"41504","41500","133594560100300000","7340032","0","0","conhost.exe"',
  '"41508","41496","133594559000000000","4194304","0","0","older.exe"',
];
const csv = (rows: string[]): string => [HEADER, ...rows].join('\r\n');
const PS51_TABLE = csv(PS51_ROWS);

const T0 = 133594560000000000n;
const at = (seconds: number): string => String(T0 + BigInt(Math.round(seconds * 1e7)));
const pidsOf = (records: { pid: number }[]): number[] => records.map((r) => r.pid).sort((a, b) => a - b);

describe('windowsProcessQuery', () => {
  const script =
    "$ErrorActionPreference='Stop'; $ProgressPreference='SilentlyContinue'; " +
    'try{[Console]::OutputEncoding=[Text.UTF8Encoding]::new($false)}catch{}; ' +
    'Get-CimInstance -ClassName Win32_Process -Property ' +
    'ProcessId,ParentProcessId,CreationDate,WorkingSetSize,KernelModeTime,UserModeTime,Name' +
    '%FILTER% | Select-Object ProcessId,ParentProcessId,' +
    "@{n='Created';e={if($_.CreationDate){$_.CreationDate.ToUniversalTime().ToFileTimeUtc()}}}," +
    'WorkingSetSize,KernelModeTime,UserModeTime,Name | ConvertTo-Csv -NoTypeInformation';

  it('asks for the whole table with one PowerShell from System32', () => {
    expect(windowsProcessQuery(undefined, 'C:\\WINDOWS')).toEqual({
      file: 'C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      args: ['-NoProfile', '-NonInteractive', '-Command', script.replace('%FILTER%', '')],
    });
  });

  it('filters on one pid for an identity', () => {
    expect(windowsProcessQuery(41236, 'C:\\Windows').args[3]).toBe(
      script.replace('%FILTER%', " -Filter 'ProcessId=41236'"),
    );
  });

  it('has no double quote for Windows command-line quoting to mangle', () => {
    expect(windowsProcessQuery(8).args.join(' ')).not.toContain('"');
  });

  it('falls back to PATH without SystemRoot, and refuses a pid that is not one', () => {
    expect(windowsProcessQuery(undefined, undefined).file).toBe('powershell.exe');
    expect(() => windowsProcessQuery(0)).toThrow(RangeError);
    expect(() => windowsProcessQuery(1.5)).toThrow('not a process id: 1.5');
  });
});

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    expect(parseCsv('"a","b, c","say ""hi""","two\r\nlines"\r\n')).toEqual([
      ['a', 'b, c', 'say "hi"', 'two\r\nlines'],
    ]);
  });

  it('reads empty fields quoted or not, LF or CRLF, with or without a final line end', () => {
    expect(parseCsv('"1",,"x"\n"",2,\r\n3,"",""')).toEqual([
      ['1', '', 'x'],
      ['', '2', ''],
      ['3', '', ''],
    ]);
  });

  it('skips a byte-order mark and blank lines', () => {
    expect(parseCsv('\uFEFF"a"\r\n\r\n"b"\r\n')).toEqual([['a'], ['b']]);
    expect(parseCsv('')).toEqual([]);
  });

  it('says so when the text ends inside quotes', () => {
    expect(() => parseCsv('"a","b\r\n')).toThrow('CSV ends inside a quoted field');
  });
});

describe('parseWindowsProcessCsv', () => {
  const table = parseWindowsProcessCsv(PS51_TABLE);

  it('reads every process, the idle process and System included', () => {
    expect(table.size).toBe(18);
    expect(table.get(0)).toEqual({
      pid: 0,
      ppid: 0,
      pgid: 0,
      startTime: '', // no CreationDate: an unknown start time, never equal to anything
      rssBytes: 8192,
      cpuSeconds: 157238797.96875,
      command: 'System Idle Process',
    });
    expect(table.get(4)).toMatchObject({ ppid: 0, startTime: '133594524005000000', command: 'System' });
  });

  it('converts units: bytes of working set, 100 ns of kernel plus user time', () => {
    expect(table.get(41236)).toEqual({
      pid: 41236,
      ppid: 39812,
      pgid: 0,
      startTime: at(5),
      rssBytes: 52428800,
      cpuSeconds: 1,
      command: 'python.exe',
    });
  });

  it('keeps non-ASCII names and names with commas', () => {
    expect(table.get(41300)!.command).toBe('Büro-Überwachung.exe');
    expect(table.get(41304)!.command).toBe('データ収集.exe');
    expect(table.get(41312)!.command).toBe('worker, fast.exe');
  });

  it('keeps a link to a dead parent but cuts one to a pid reused since', () => {
    expect(table.get(640)!.ppid).toBe(620); // nobody holds 620: the orphan keeps its link
    expect(table.get(41500)!.ppid).toBe(41496);
    expect(table.get(41400)!.ppid).toBe(0); // 41236 was created after it: not its parent
    expect(table.get(41304)!.ppid).toBe(41300);
  });

  it('reads PowerShell 7 output too: a byte-order mark, unquoted empty fields, LF, any column order', () => {
    const text =
      '\uFEFF"Name","ProcessId","ParentProcessId","Created","WorkingSetSize","KernelModeTime","UserModeTime"\n' +
      '"System Idle Process","0","0",,"8192",,\n' +
      '"Secure System","140","4","133594524005100000","40960000","0","0"\n';
    const parsed = parseWindowsProcessCsv(text);
    expect(parsed.get(0)).toMatchObject({ startTime: '', rssBytes: 8192, cpuSeconds: 0 });
    expect(parsed.get(140)).toMatchObject({ ppid: 4, command: 'Secure System', rssBytes: 40960000 });
  });

  it('is empty when the pid filter matched nothing (PowerShell prints no header then)', () => {
    expect(parseWindowsProcessCsv('').size).toBe(0);
    expect(parseWindowsProcessCsv('\r\n').size).toBe(0);
  });

  it('skips rows without a pid and names the columns that are missing', () => {
    expect(parseWindowsProcessCsv(`${HEADER}\r\n"","4","1","2","3","4","ghost"\r\n`).size).toBe(0);
    expect(() => parseWindowsProcessCsv('"ProcessId","Name"\r\n"4","System"\r\n')).toThrow(
      'the Windows process list lacks the column(s) ParentProcessId, Created, WorkingSetSize, KernelModeTime, UserModeTime',
    );
  });
});

describe('Windows trees', () => {
  const table = parseWindowsProcessCsv(PS51_TABLE);
  /** The fixture without the rows of these pids, plus more rows. */
  const changed = (gone: number[], added: string[] = []): ProcessTable =>
    parseWindowsProcessCsv(
      csv([...PS51_ROWS.filter((row) => !gone.some((pid) => row.startsWith(`"${pid}"`))), ...added]),
    );

  it('the fixture pids cannot be this test process (pid_max keeps Linux pids lower)', () => {
    expect(process.pid).toBeLessThan(39812);
  });

  it('descendantsOf follows parent links but not to a process older than its recorded parent', () => {
    expect(pidsOf(descendantsOf(table, 41236))).toEqual([41236, 41240, 41300, 41304, 41312]);
  });

  it('orphansOf finds the children of a dead process, not those of an older holder of its pid', () => {
    expect(pidsOf(orphansOf(table, { pid: 41496, startTime: at(9) }))).toEqual([41500]);
    expect(orphansOf(table, { pid: 41496, startTime: '' })).toEqual([]);
    // While a process holds the pid, its children are its descendants, not orphans.
    expect(orphansOf(table, { pid: 41236, startTime: at(5) })).toEqual([]);
  });

  it('membership: the known root and everything below it', () => {
    const membership = new TreeMembership({ pgid: 41236, known: [{ pid: 41236, startTime: at(5) }] });
    expect(pidsOf(membership.update(table))).toEqual([41236, 41240, 41300, 41304, 41312]);
    expect([...membership.groups]).toEqual([]); // no process groups on Windows
  });

  it('membership: a dead root leaves its orphans and their children', () => {
    const membership = new TreeMembership({ pgid: 41496, known: [{ pid: 41496, startTime: at(9) }] });
    expect(pidsOf(membership.update(table))).toEqual([41500, 41504]);
  });

  it('membership: a child whose parent was killed stays a member, and so does one it spawned while dying', () => {
    const membership = new TreeMembership({ pgid: 41236, known: [{ pid: 41236, startTime: at(5) }] });
    membership.update(table);
    // 41236 and 41300 are gone; 41300 had spawned 41320 after the first snapshot.
    const next = changed([41236, 41300], [`"41320","41300","${at(20)}","4096","0","0","late.exe"`]);
    expect(pidsOf(membership.update(next))).toEqual([41240, 41304, 41312, 41320]);
  });

  it('membership: a reused root pid brings in neither the stranger nor its children', () => {
    const membership = new TreeMembership({ pgid: 41236, known: [{ pid: 41236, startTime: at(5) }] });
    membership.update(table);
    const reused = changed(
      [41236],
      [
        `"41236","39812","${at(100)}","4096","0","0","stranger.exe"`,
        `"41600","41236","${at(101)}","4096","0","0","strangers-child.exe"`,
      ],
    );
    expect(reused.get(41240)!.ppid).toBe(0); // its recorded parent is now a younger stranger
    const members = pidsOf(membership.update(reused));
    expect(members).not.toContain(41236);
    expect(members).not.toContain(41600);
    expect(members).toEqual([41240, 41300, 41304, 41312]);
  });

  it('the sampler sums a Windows tree (no group to add) and counts CPU between samples', async () => {
    let snapshot = table;
    const sampler = new TreeSampler(async () => snapshot);
    const first = (await sampler.sample([{ key: 'py', pid: 41236, pgid: 41236 }])).get('py')!;
    expect(pidsOf(first.pids)).toEqual([41236, 41240, 41300, 41304, 41312]);
    expect(first.rssBytes).toBe(52428800 + 11534336 + 20971520 + 15728640 + 9437184);
    expect(first.cpuPercent).toBe(0);
    snapshot = parseWindowsProcessCsv(
      PS51_TABLE.replace('"1250000","8750000","python.exe"', '"1250000","18750000","python.exe"'),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = (await sampler.sample([{ key: 'py', pid: 41236, pgid: 41236 }])).get('py')!;
    expect(second.cpuPercent).toBeGreaterThan(0);
  });
});

describe('osSignal', () => {
  it('passes signals through on POSIX', () => {
    expect(osSignal('SIGUSR1', 'linux')).toBe('SIGUSR1');
    expect(osSignal('SIGSTOP', 'darwin')).toBe('SIGSTOP');
  });

  it('turns every stop signal into termination on Windows and refuses a pause', () => {
    for (const signal of [
      'SIGTERM',
      'SIGINT',
      'SIGHUP',
      'SIGQUIT',
      'SIGUSR1',
      'SIGUSR2',
      'SIGKILL',
    ] as const) {
      expect(osSignal(signal, 'win32')).toBe('SIGKILL');
    }
    expect(osSignal(0 as unknown as NodeJS.Signals, 'win32')).toBe(0);
    expect(() => osSignal('SIGSTOP', 'win32')).toThrow('SIGSTOP cannot be sent on Windows');
    expect(() => osSignal('SIGCONT', 'win32')).toThrow('SIGCONT cannot be sent on Windows');
  });
});

describe('findCommand', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  const bin = join(dir.path, 'bin');
  const work = join(dir.path, 'work');
  mkdirSync(bin);
  mkdirSync(work);
  // Upper-case extensions as in PATHEXT: Windows compares names case-insensitively, this file system not.
  for (const file of [join(bin, 'python.EXE'), join(bin, 'npm.CMD'), join(work, 'local.EXE')]) {
    writeFileSync(file, '', { mode: 0o755 });
  }

  it('on Windows, tries every PATHEXT extension in the working directory, then on PATH', () => {
    const find = (command: string): string | null => findCommand(command, work, bin, 'win32', '.EXE;.CMD');
    expect(find('python')).toBeNull();
    expect(find('npm')).toBeNull(); // cross-spawn runs a .cmd through cmd.exe
    expect(find('local')).toBeNull();
    expect(find('python.EXE')).toBeNull();
    expect(find('ruby')).toBe('command not found on PATH: ruby');
    expect(findCommand('bin\\python', dir.path, '', 'win32', '.EXE')).toBe(
      'command not found or not executable: bin\\python',
    );
  });

  it('on POSIX, takes the name as it is', () => {
    expect(findCommand('python', work, bin, 'linux')).toBe('command not found on PATH: python');
    expect(findCommand('python.EXE', work, bin, 'linux')).toBeNull();
    expect(findCommand('local.EXE', work, bin, 'linux')).toBe('command not found on PATH: local.EXE');
  });
});

describe('busSocketPath', () => {
  it('is a socket file in the data directory on POSIX', () => {
    expect(busSocketPath('/home/t/.vigil', 'feed', 'linux')).toBe('/home/t/.vigil/bus/feed.sock');
  });

  it('is a named pipe per data directory and service on Windows', () => {
    const pipe = busSocketPath('C:\\Users\\t\\AppData\\Roaming\\Vigil', 'feed', 'win32');
    expect(pipe).toMatch(/^\\\\\.\\pipe\\vigil-[0-9a-f]{16}-feed$/);
    expect(busSocketPath('c:\\users\\T\\appdata\\roaming\\vigil', 'feed', 'win32')).toBe(pipe);
    expect(busSocketPath('D:\\other', 'feed', 'win32')).not.toBe(pipe);
    expect(parseAddress(pipe)).toEqual({ path: pipe });
  });
});
