/** ServiceLog against real child processes and real files: drained pipes, rotation, drops, close. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServiceLog, type LogLine } from '../../src/main/supervisor/service-log';
import { tempDir } from '../helpers/temp-dir';

const fixture = resolve(import.meta.dirname, '../fixtures/children/fixture.mjs');
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) #(\d+) (out|err|vigil) (\d+|-) (.*)$/;
const FLOOD = 200_000;

let dir: ReturnType<typeof tempDir>;
const children: ChildProcess[] = [];
const logs: ServiceLog[] = [];

beforeEach(() => {
  dir = tempDir('vigil-log-');
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(logs.splice(0).map((l) => l.close()));
  dir.remove();
});

function makeLog(opts: Partial<ConstructorParameters<typeof ServiceLog>[0]> = {}): ServiceLog {
  const log = new ServiceLog({ dir: dir.path, name: 'svc', ...opts });
  logs.push(log);
  return log;
}

function runFixture(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return child;
}

/** Every log file of `svc`, oldest first (svc.log.N … svc.log.1, svc.log). */
function logFiles(base = join(dir.path, 'svc.log')): string[] {
  const backups = readdirSync(dir.path)
    .map((f) => /^svc\.log\.(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a)
    .map((n) => `${base}.${n}`);
  return existsSync(base) ? [...backups, base] : backups;
}

function fileLines(files: string[]): string[] {
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(0, -1));
}

function parse(line: string): { stream: string; pid: string; text: string } {
  const m = LINE.exec(line);
  if (!m) throw new Error(`malformed log line: ${JSON.stringify(line.slice(0, 200))}`);
  return { stream: m[3]!, pid: m[4]!, text: m[5]! };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Attaches a child's stdout and resolves with the ms from spawn until its last flood line arrived. */
function floodInto(log: ServiceLog): Promise<number> {
  const t0 = performance.now();
  const child = runFixture(['--flood', String(FLOOD), '--heartbeat-ms', '1000']);
  log.attach(child.stdout!, 'out', child.pid!);
  log.attach(child.stderr!, 'err', child.pid!);
  return new Promise((resolveTime) => {
    const off = log.onLine((line) => {
      if (line.text.startsWith(`flood line ${FLOOD - 1} `)) {
        off();
        resolveTime(performance.now() - t0);
      }
    });
  });
}

describe('service log', () => {
  it('never blocks a child that floods stdout: every line is written or counted as dropped', async () => {
    const log = makeLog();
    let seen = 0;
    log.onLine((l) => l.text.startsWith('flood line') && seen++);
    const ms = await floodInto(log);
    expect(seen).toBe(FLOOD);
    // Generous: the child alone needs ~0.5-2 s on a loaded 2-core machine.
    expect(ms).toBeLessThan(20_000);
    await log.close();
    const written = fileLines(logFiles()).filter((l) => parse(l).text.startsWith('flood line')).length;
    const { droppedLines, bytesWritten } = log.stats();
    expect(written + droppedLines).toBe(FLOOD);
    expect(bytesWritten).toBeGreaterThan(0);
    console.info(`flood ${FLOOD} lines: ${ms.toFixed(0)} ms, ${written} written, ${droppedLines} dropped`);
  });

  it('drops and counts instead of buffering without bound when the disk falls behind', async () => {
    // A 64 KiB budget is far below what a flood produces between two disk writes.
    const log = makeLog({ maxPendingBytes: 64 * 1024 });
    const notes: string[] = [];
    log.onLine((l) => l.stream === 'vigil' && notes.push(l.text));
    await floodInto(log);
    await log.close();
    const lines = fileLines(logFiles());
    const written = lines.filter((l) => parse(l).text.startsWith('flood line')).length;
    const { droppedLines } = log.stats();
    expect(written + droppedLines).toBe(FLOOD);
    if (droppedLines > 0) {
      expect(notes[0]).toMatch(/^log file: dropping lines: more than .* waiting for the disk$/);
      const tallies = lines.map(parse).filter((l) => /writing again; dropped \d+ lines?/.test(l.text));
      const tallied = tallies.reduce((n, l) => n + Number(/dropped (\d+)/.exec(l.text)![1]), 0);
      // The tally of the last episode may not make it into the file if close() came mid-episode.
      expect(tallied).toBeLessThanOrEqual(droppedLines);
    }
    console.info(`flood with 64 KiB budget: ${written} written, ${droppedLines} dropped`);
  });

  it('rotates under load: at most maxFiles + 1 files, each within the size limit, newest lines kept', async () => {
    const maxFileBytes = 256 * 1024;
    // A budget large enough that a busy disk cannot force drops: this test is about rotation.
    const log = makeLog({ maxFileBytes, maxFiles: 3, maxPendingBytes: 64 * 1024 * 1024 });
    await floodInto(log);
    await log.close();
    expect(log.stats().droppedLines).toBe(0);
    const files = logFiles();
    expect(files.map((f) => f.slice(dir.path.length + 1))).toEqual([
      'svc.log.3',
      'svc.log.2',
      'svc.log.1',
      'svc.log',
    ]);
    const longestLine = 200;
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(maxFileBytes + longestLine);
    // Oldest to newest across the files, the flood numbers only go up, and the last one is the last line.
    const numbers = fileLines(files)
      .map(parse)
      .filter((l) => l.text.startsWith('flood line'))
      .map((l) => Number(l.text.split(' ')[2]));
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]!).toBeGreaterThan(numbers[i - 1]!);
    expect(numbers.at(-1)).toBe(FLOOD - 1);
  });

  it('joins a line written in two parts by a real child', async () => {
    const log = makeLog();
    const child = runFixture(['--partial']);
    log.attach(child.stdout!, 'out', child.pid!);
    await until(() => log.tail(10).length > 0, 'the joined line');
    await new Promise((r) => setTimeout(r, 200)); // nothing else should follow
    expect(log.tail(10).map((l) => [l.text, l.stream, l.pid])).toEqual([
      ['first half, second half', 'out', child.pid],
    ]);
    await log.close();
    const [line] = fileLines(logFiles());
    expect(parse(line!)).toEqual({ stream: 'out', pid: String(child.pid), text: 'first half, second half' });
  });

  it('handles CRLF, a CR split from its LF, and an unterminated last line at stream end', async () => {
    const log = makeLog();
    const stream = new PassThrough();
    log.attach(stream, 'err', 42);
    stream.write('one\r\ntwo\r');
    stream.write('\nthree\n\n');
    stream.end('last without newline');
    await until(() => log.tail(10).length === 5, 'five lines');
    expect(log.tail(10).map((l) => l.text)).toEqual(['one', 'two', 'three', '', 'last without newline']);
    expect(log.tail(10).every((l) => l.stream === 'err' && l.pid === 42)).toBe(true);
  });

  it('splits over-long lines at character boundaries, also before their newline arrives', async () => {
    const log = makeLog({ maxLineBytes: 100 });
    const stream = new PassThrough();
    log.attach(stream, 'out', 1);
    stream.write('x'.repeat(250) + '\n');
    // 120 two-byte characters, sent in pieces with no newline: memory must not wait for one.
    for (let i = 0; i < 4; i++) stream.write('é'.repeat(30));
    await until(() => log.tail(10).length === 5, 'the split pieces');
    stream.end('\n');
    await until(() => log.tail(10).length === 6, 'the rest of the line');
    const texts = log.tail(10).map((l) => l.text);
    expect(texts.slice(0, 3).map((t) => t.length)).toEqual([100, 100, 50]);
    expect(texts.slice(3).join('')).toBe('é'.repeat(120));
    for (const t of texts) expect(Buffer.byteLength(t)).toBeLessThanOrEqual(100);
    expect(texts.join('')).not.toContain('\ufffd');
  });

  it('keeps the last N lines in the ring and filters them by stream and text', async () => {
    const log = makeLog({ ringSize: 10 });
    const out = new PassThrough();
    const err = new PassThrough();
    log.attach(out, 'out', 7);
    log.attach(err, 'err', 7);
    for (let i = 0; i < 20; i++) (i % 2 ? err : out).write(`line ${i}${i % 5 === 0 ? ' tick' : ''}\n`);
    log.note('restarting');
    await until(() => log.tail(100).at(-1)?.text === 'restarting', 'the note');
    const all = log.tail(100);
    expect(all.map((l) => l.text)).toEqual([
      'line 11',
      'line 12',
      'line 13',
      'line 14',
      'line 15 tick',
      'line 16',
      'line 17',
      'line 18',
      'line 19',
      'restarting',
    ]);
    expect(all.map((l) => l.seq)).toEqual([...Array(10).keys()].map((i) => i + 12));
    expect(log.tail(3).map((l) => l.text)).toEqual(['line 18', 'line 19', 'restarting']);
    expect(log.tail(100, { stream: 'err' }).map((l) => l.text)).toEqual([
      'line 11',
      'line 13',
      'line 15 tick',
      'line 17',
      'line 19',
    ]);
    expect(log.tail(2, { stream: 'err' }).map((l) => l.text)).toEqual(['line 17', 'line 19']);
    expect(log.tail(100, { contains: 'tick' }).map((l) => l.text)).toEqual(['line 15 tick']);
    expect(log.tail(100, { stream: 'vigil' }).map((l) => [l.text, l.pid])).toEqual([['restarting', null]]);
  });

  it('drops and counts lines when the directory cannot be written, then writes again when it can', async () => {
    const blocked = join(dir.path, 'not-a-dir');
    writeFileSync(blocked, 'a file where the log directory should be');
    const log = makeLog({ dir: blocked, retryAfterMs: 300 });
    const seen: LogLine[] = [];
    log.onLine((l) => seen.push(l));
    const stream = new PassThrough();
    log.attach(stream, 'out', 5);
    expect(() => {
      for (let i = 0; i < 100; i++) stream.write(`early ${i}\n`);
    }).not.toThrow();
    await until(() => log.stats().droppedLines === 100, '100 dropped lines');
    // More lines while failing are refused at once and counted.
    for (let i = 0; i < 10; i++) stream.write(`still failing ${i}\n`);
    await until(() => log.stats().droppedLines === 110, '110 dropped lines');
    const notes = seen.filter((l) => l.stream === 'vigil').map((l) => l.text);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/dropping lines: write failed: (ENOTDIR|EEXIST)/);
    expect(seen.filter((l) => l.stream === 'out')).toHaveLength(110); // the UI still sees them

    // The operator fixes it; after the retry delay the file takes lines again, tally first.
    dir.remove();
    await new Promise((r) => setTimeout(r, 350));
    stream.write('recovered\n');
    await until(() => log.tail(1)[0]?.text === 'recovered', 'the recovered line');
    await log.close();
    const lines = readFileSync(join(blocked, 'svc.log'), 'utf8').trimEnd().split('\n').map(parse);
    expect(lines.map((l) => l.text)).toEqual([
      expect.stringMatching(/^log file: writing again; dropped 110 lines \(write failed: /),
      'recovered',
    ]);
    expect(log.stats().droppedLines).toBe(110);
  });

  it('stops writing below the free-space minimum and counts what it drops', async () => {
    const log = makeLog({ minFreeBytes: Number.MAX_SAFE_INTEGER });
    log.note('before the first measurement'); // starts the statfs; no answer yet, so written
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 5; i++) log.note(`low on space ${i}`);
    expect(log.stats().droppedLines).toBe(5);
    expect(log.tail(1, { contains: 'dropping lines' })[0]?.text).toMatch(
      /dropping lines: only .* free on the disk/,
    );
    await log.close();
    expect(fileLines(logFiles()).map((l) => parse(l).text)).toEqual(['before the first measurement']);
  });

  it('close() flushes unfinished lines and resolves with everything on disk', async () => {
    const log = makeLog();
    const stream = new PassThrough();
    log.attach(stream, 'out', 9);
    const n = 20_000;
    for (let i = 0; i < n; i++) stream.write(`line ${i}\n`);
    stream.write('unfinished');
    await until(() => log.tail(1)[0]?.text === `line ${n - 1}`, 'the last whole line');
    log.note('stopping');
    await log.close();
    const lines = fileLines(logFiles()).map(parse);
    expect(lines).toHaveLength(n + 2);
    expect(lines.at(-3)?.text).toBe(`line ${n - 1}`);
    expect(lines.at(-2)).toEqual({ stream: 'vigil', pid: '-', text: 'stopping' });
    expect(lines.at(-1)).toEqual({ stream: 'out', pid: '9', text: 'unfinished' });
    expect(log.stats().bytesWritten).toBe(statSync(join(dir.path, 'svc.log')).size);
    // After close the pipe is still drained, but nothing more reaches the file.
    stream.write('after close\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(fileLines(logFiles())).toHaveLength(n + 2);
  });

  it('flush() resolves with every line so far on disk while the log stays open for the next run', async () => {
    const log = makeLog();
    for (const pid of [100, 200]) {
      const stream = new PassThrough();
      log.attach(stream, 'out', pid);
      for (let i = 0; i < 1000; i++) stream.write(`run ${pid} line ${i}\n`);
      stream.end();
      log.note(`run ${pid} exited`);
      await log.flush();
      const lines = fileLines(logFiles()).map(parse);
      expect(lines.at(-1)).toEqual({ stream: 'vigil', pid: '-', text: `run ${pid} exited` });
      expect(lines.filter((l) => l.pid === String(pid))).toHaveLength(1000);
    }
    expect(fileLines(logFiles())).toHaveLength(2002);
  });
});

describe('older lines, read back from the files', () => {
  /** Every line of the files, oldest first, as the reader should return them. */
  const onDisk = (): { seq: number; text: string }[] =>
    fileLines(logFiles()).map((l) => {
      const m = LINE.exec(l)!;
      return { seq: Number(m[2]), text: m[5]! };
    });

  /** Pages back from the newest line to the oldest, `n` at a time, the way the UI's "load older" does. */
  async function pageBack(log: ServiceLog, n: number, filter = {}): Promise<LogLine[]> {
    let page = log.tail(n, filter);
    const all = [...page];
    while (page.length > 0) {
      page = await log.before(page[0]!.seq, n, filter);
      expect(page.length).toBeLessThanOrEqual(n);
      all.unshift(...page);
    }
    return all;
  }

  it('number lines on from the last one written, across rotations and a new run', async () => {
    const first = makeLog({ maxFileBytes: 2048, maxFiles: 2 });
    for (let i = 0; i < 100; i++) first.note(`run 1 line ${i}`);
    await first.close();
    expect(onDisk().at(-1)).toEqual({ seq: 100, text: 'run 1 line 99' });
    const second = makeLog({ maxFileBytes: 2048, maxFiles: 2 });
    second.note('run 2');
    expect(second.tail(1)[0]!.seq).toBe(101);
    await second.close();
    // A file whose last line is cut short (a crash mid-write) still gives the last whole line's number.
    writeFileSync(join(dir.path, 'svc.log'), `${readFileSync(join(dir.path, 'svc.log'), 'utf8')}2026-11-2`);
    const third = makeLog({ maxFileBytes: 2048, maxFiles: 2 });
    third.note('run 3');
    expect(third.tail(1)[0]!.seq).toBe(102);
  });

  it('page back through the ring, the current file and every rotated one, each line once, in order', async () => {
    // Small files and a small ring: 3,000 lines span the ring, svc.log and three rotated files.
    const log = makeLog({ maxFileBytes: 16 * 1024, maxFiles: 3, ringSize: 50 });
    const stream = new PassThrough();
    log.attach(stream, 'out', 3);
    for (let i = 0; i < 3000; i++) stream.write(`line ${i}${i % 7 === 0 ? ' seventh' : ''}\n`);
    await until(() => log.tail(1)[0]?.text === 'line 2999', 'the last line');
    await log.flush();
    const disk = onDisk();
    expect(disk.length).toBeLessThan(3000); // the oldest file went
    expect(logFiles()).toHaveLength(4);

    for (const n of [5, 2000]) {
      const all = await pageBack(log, n);
      expect(all.map((l) => ({ seq: l.seq, text: l.text }))).toEqual(disk);
      expect(all.every((l) => l.stream === 'out' && l.pid === 3)).toBe(true);
    }
    // Filters apply to the files too.
    const seventh = await pageBack(log, 100, { contains: 'seventh' });
    expect(seventh.map((l) => l.text)).toEqual(
      disk.filter((l) => l.text.endsWith('seventh')).map((l) => l.text),
    );
    expect(await log.before(disk[0]!.seq, 10)).toEqual([]);

    // A cursor stays good while the log rotates under it (about one file of new lines).
    const at = disk.length - 300;
    const page = await log.before(disk[at]!.seq, 5);
    expect(page.map((l) => l.seq)).toEqual(disk.slice(at - 5, at).map((l) => l.seq));
    const rotated = logFiles().length;
    for (let i = 0; i < 400; i++) stream.write(`later ${i}\n`);
    await until(() => log.tail(1)[0]?.text === 'later 399', 'the later lines');
    await log.flush();
    expect(onDisk()[0]!.seq).toBeGreaterThan(disk[0]!.seq); // it did rotate
    expect(logFiles()).toHaveLength(rotated);
    const next = await log.before(page[0]!.seq, 5);
    expect(next.map((l) => l.seq)).toEqual(disk.slice(at - 10, at - 5).map((l) => l.seq));
  });

  it('find their place in a large file, and skip lines that do not parse', async () => {
    // Lines from before numbered logs, and one merged with a line a crash cut short.
    const old = Array.from({ length: 50 }, (_, i) => `2026-01-01T00:00:00.000Z out 1 before numbers ${i}\n`);
    writeFileSync(join(dir.path, 'svc.log'), old.join(''));
    const log = makeLog({ ringSize: 10 });
    const stream = new PassThrough();
    log.attach(stream, 'out', 4);
    const n = 60_000;
    for (let i = 0; i < n; i++) stream.write(`numbered ${i} ${'x'.repeat(i % 50)}\n`);
    await until(() => log.tail(1)[0]?.text.startsWith(`numbered ${n - 1} `) ?? false, 'the last line');
    await log.flush();
    expect(log.tail(1)[0]!.seq).toBe(n); // nothing numbered before: from 1
    const page = await log.before(30_000, 3);
    expect(page.map((l) => [l.seq, l.text.split(' ')[1]])).toEqual([
      [29_997, '29996'],
      [29_998, '29997'],
      [29_999, '29998'],
    ]);
    expect((await log.before(3, 10)).map((l) => l.seq)).toEqual([1, 2]); // the unnumbered ones skipped
  });
});
