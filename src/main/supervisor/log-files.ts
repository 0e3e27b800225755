/**
 * A service log's files as lines: the format each line is written in (time, sequence number, stream,
 * pid, text), and reading lines back, newest first, from before a sequence number, across the rotated
 * files (`name.log`, `name.log.1` … `name.log.<maxFiles>`).
 *
 * Sequence numbers only grow: within a file, from one file to the next, and from one run of Vigil to
 * the next (a log continues from the last number written). That makes a number a cursor that stays
 * good across rotations, and lets a read find its place in a 20 MiB file with a binary search instead
 * of reading it from the end. Lines that do not parse (written before numbers, or merged with a line
 * cut short by a crash) are skipped.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { LogLine } from '../../shared/services';

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) #(\d+) (out|err|vigil) (\d+|-) (.*)$/s;
const SEQ = /^\S+ #(\d+) /;
const NEWLINE = 0x0a;
/** Backwards reads go in chunks of this size. */
const CHUNK = 256 * 1024;
/** Enough to hold the longest line (64 KiB of text, split by the log) with its prefix. */
const LONGEST_LINE = 80 * 1024;
/** What one request reads at most: only a filter that matches little gets near it. */
export const MAX_SCAN_BYTES = 32 * 1024 * 1024;

export interface ReadBeforeQuery {
  /** Only lines numbered below this. */
  before: number;
  lines: number;
  stream?: LogLine['stream'];
  contains?: string;
  maxScanBytes?: number;
}

/** `2026-11-22T13:40:46.817Z #1234 out 12345 text`: one line of a log file. */
export function formatLine(
  iso: string,
  seq: number,
  stream: LogLine['stream'],
  pid: number | null,
  text: string,
): string {
  return `${iso} #${seq} ${stream} ${pid ?? '-'} ${text}\n`;
}

export function parseLine(line: string): LogLine | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return {
    seq: Number(m[2]),
    at: Date.parse(m[1]!),
    stream: m[3] as LogLine['stream'],
    pid: m[4] === '-' ? null : Number(m[4]),
    text: m[5]!,
  };
}

/** The log's files, newest first. */
export function logFiles(base: string, maxFiles: number): string[] {
  return [base, ...Array.from({ length: maxFiles }, (_, i) => `${base}.${i + 1}`)];
}

/**
 * The number of the last line written to the log (0 when there is none), from the end of its newest
 * file that has one. Synchronous and short: it reads at most the last LONGEST_LINE × 2 of a file.
 */
export function lastWrittenSeq(base: string, maxFiles: number): number {
  for (const path of logFiles(base, maxFiles)) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      continue; // not there (yet, or any more)
    }
    try {
      const buf = Buffer.alloc(LONGEST_LINE * 2);
      const size = readTailSync(fd, buf);
      const lines = buf.subarray(0, size).toString('utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const seq = seqOf(lines[i]!);
        if (seq !== null) return seq;
      }
    } finally {
      closeSync(fd);
    }
  }
  return 0;
}

/** Up to `q.lines` lines numbered below `q.before` that pass the filter, oldest first. */
export async function readBefore(base: string, maxFiles: number, q: ReadBeforeQuery): Promise<LogLine[]> {
  const found: LogLine[] = []; // newest first
  const scan = { cursor: q.before, budget: q.maxScanBytes ?? MAX_SCAN_BYTES };
  // A rotation while this runs shifts every file up by one: a file may be read twice (its lines are
  // then numbered at or above the cursor and skipped), never missed.
  for (const path of logFiles(base, maxFiles)) {
    if (found.length >= q.lines || scan.budget <= 0) break;
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    try {
      await readFileBefore(fh, q, scan, found);
    } finally {
      await fh.close();
    }
  }
  return found.reverse();
}

async function readFileBefore(
  fh: FileHandle,
  q: ReadBeforeQuery,
  scan: { cursor: number; budget: number },
  found: LogLine[],
): Promise<void> {
  const size = (await fh.stat()).size;
  let pos = await boundary(fh, size, scan.cursor);
  const complete = pos < size || (size > 0 && (await readAt(fh, size - 1, 1))[0] === NEWLINE);
  // The bytes after the last newline seen, which belong to the line that started in the previous chunk.
  let carry: Buffer = Buffer.alloc(0);
  let first = true;
  while (pos > 0 && found.length < q.lines && scan.budget > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const chunk = await readAt(fh, pos, len);
    scan.budget -= len;
    const data = carry.length > 0 ? Buffer.concat([chunk, carry]) : chunk;
    let end = data.length;
    if (first) {
      // The end of the file may hold a line still being written: not a line yet.
      if (!complete) end = data.lastIndexOf(NEWLINE) + 1;
      first = false;
    }
    // Lines from the end: the last one ends at `end`, with its newline.
    while (end > 0 && found.length < q.lines) {
      const nl = end >= 2 ? data.lastIndexOf(NEWLINE, end - 2) : -1;
      if (nl < 0 && pos > 0) break; // it starts in an earlier chunk: carried over
      take(data.toString('utf8', nl + 1, end - 1), q, scan, found);
      end = nl + 1;
    }
    carry = data.subarray(0, end);
  }
}

function take(
  text: string,
  q: ReadBeforeQuery,
  scan: { cursor: number; budget: number },
  found: LogLine[],
): void {
  const line = parseLine(text);
  if (line === null || line.seq >= scan.cursor) return;
  scan.cursor = line.seq;
  if (q.stream && line.stream !== q.stream) return;
  if (q.contains !== undefined && !line.text.includes(q.contains)) return;
  found.push(line);
}

/**
 * Where the lines numbered `cursor` and above begin in the file (its size when none are): a binary
 * search over byte offsets. A probe that cannot tell (a line that does not parse) counts as older,
 * which can only move the boundary later: the reader skips what is numbered at or above the cursor.
 */
async function boundary(fh: FileHandle, size: number, cursor: number): Promise<number> {
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const probe = await lineAtOrAfter(fh, mid, size);
    if (probe === null || (probe.seq !== null && probe.seq >= cursor)) hi = mid;
    else lo = mid + 1;
  }
  const found = await lineAtOrAfter(fh, lo, size);
  return found === null ? size : found.start;
}

/** The line that starts at or after `x`: where, and its number; null at the end of the file. */
async function lineAtOrAfter(
  fh: FileHandle,
  x: number,
  size: number,
): Promise<{ start: number; seq: number | null } | null> {
  let start = x;
  if (x > 0) {
    const buf = await readAt(fh, x - 1, Math.min(LONGEST_LINE, size - x + 1));
    const nl = buf.indexOf(NEWLINE);
    if (nl < 0) return buf.length < LONGEST_LINE ? null : { start: x, seq: null };
    start = x + nl;
  }
  if (start >= size) return null;
  const head = await readAt(fh, start, Math.min(64, size - start));
  return { start, seq: seqOf(head.toString('latin1')) };
}

function seqOf(line: string): number | null {
  const m = SEQ.exec(line);
  return m ? Number(m[1]) : null;
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === len ? buf : buf.subarray(0, got);
}

/** Reads the last buf.length bytes of the file into buf; returns how many. */
function readTailSync(fd: number, buf: Buffer): number {
  const size = fstatSync(fd).size;
  const start = Math.max(0, size - buf.length);
  return readSync(fd, buf, 0, size - start, start);
}
