/**
 * One service's output: every stdout/stderr line, stamped with time, sequence number, stream and pid,
 * goes to a rotating file `<dir>/<name>.log`, to an in-memory ring for the UI tail, and to live
 * listeners. Older lines are read back from the files by sequence number (log-files.ts); numbers
 * continue from the last one written, across rotations and runs of Vigil.
 *
 * Reading never waits for the disk (reference/supervision.md c10; supervisord #240, #1554): the pipes
 * are always drained, and when the disk is slow, full, failing or nearly out of space, lines are
 * dropped from the file and counted instead. The ring and the listeners still see every line.
 */
import { join } from 'node:path';
import type { LogLine } from '../../shared/services';

export type { LogLine };
import { FreeSpaceCheck } from './free-space';
import { formatLine, lastWrittenSeq, readBefore } from './log-files';
import { MiB, RotatingFile } from './rotating-file';

export interface ServiceLogOptions {
  dir: string;
  name: string;
  maxFileBytes?: number;
  /** Rotated backups kept (`name.log.1` … `name.log.<maxFiles>`). */
  maxFiles?: number;
  ringSize?: number;
  /** Bytes waiting for the disk beyond which new lines are dropped. */
  maxPendingBytes?: number;
  /** Below this much free disk, stop writing and count drops. */
  minFreeBytes?: number;
  /** Longer lines are split into pieces of at most this many bytes. */
  maxLineBytes?: number;
  /** After a failed write, how long to drop lines before trying the file again (default 5 s). */
  retryAfterMs?: number;
  now?: () => number;
}

type Listener = (line: LogLine) => void;
export type LogFilter = { stream?: LogLine['stream']; contains?: string };

interface Dropping {
  reason: string;
  count: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
/** Room the "writing again" note needs in the write queue (it is about 150 bytes). */
const RESUME_NOTE_BYTES = 256;

export class ServiceLog {
  private readonly file: RotatingFile;
  private readonly space: FreeSpaceCheck;
  private readonly minFreeBytes: number;
  private readonly maxLineBytes: number;
  private readonly now: () => number;
  private readonly maxFiles: number;
  private readonly ring: (LogLine | undefined)[];
  private ringNext = 0;
  private seq = 0;
  private readonly listeners = new Set<Listener>();
  private readonly readers = new Set<LineReader>();
  private dropped = 0;
  private dropping: Dropping | null = null;
  private closed = false;
  private isoCache = { at: NaN, iso: '' };

  constructor(opts: ServiceLogOptions) {
    this.now = opts.now ?? Date.now;
    this.maxLineBytes = Math.max(16, opts.maxLineBytes ?? 64 * 1024);
    this.minFreeBytes = opts.minFreeBytes ?? 1024 * MiB;
    this.ring = new Array<LogLine | undefined>(Math.max(1, opts.ringSize ?? 2000));
    this.space = new FreeSpaceCheck(opts.dir, { minFreeBytes: this.minFreeBytes, now: this.now });
    this.maxFiles = opts.maxFiles ?? 5;
    const path = join(opts.dir, `${opts.name}.log`);
    this.seq = lastWrittenSeq(path, this.maxFiles);
    this.file = new RotatingFile(path, {
      maxFileBytes: opts.maxFileBytes ?? 20 * MiB,
      maxFiles: this.maxFiles,
      maxPendingBytes: opts.maxPendingBytes ?? 8 * MiB,
      retryAfterMs: opts.retryAfterMs ?? 5_000,
      now: this.now,
      onFailure: (error, lost) => this.lostOnDisk(error, lost),
    });
  }

  /** Reads `stream` to its end, one LogLine per line. Never pauses it, never throws. */
  attach(stream: NodeJS.ReadableStream, tag: 'out' | 'err', pid: number | null): void {
    const reader = new LineReader(this.maxLineBytes, (text) => this.add(tag, pid, text));
    this.readers.add(reader);
    const finish = (): void => {
      reader.flush();
      this.readers.delete(reader);
    };
    stream.on('data', (chunk: Buffer | string) => {
      if (!this.closed) reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    });
    stream.once('end', finish);
    stream.once('close', finish);
    // A read error ends this stream's lines; unhandled, it would crash the supervisor.
    stream.on('error', (error: Error) => {
      finish();
      if (!this.closed) this.note(`${tag} stream failed: ${error.message}`);
    });
    stream.resume();
  }

  /** The supervisor's own words about this service, as stream 'vigil'. */
  note(text: string): void {
    for (const line of text.split(/\r?\n/)) this.add('vigil', null, line);
  }

  /** The last `n` lines (oldest first), optionally only one stream or only lines containing a string. */
  tail(n: number, filter: LogFilter = {}): LogLine[] {
    return this.fromRing(Infinity, n, filter);
  }

  /**
   * The last `n` lines numbered below `before` (oldest first): from the ring, then from the files,
   * the rotated ones too. Fewer than `n`: there are no older ones (or, with a filter, none matched
   * in the MAX_SCAN_BYTES one request reads).
   */
  async before(before: number, n: number, filter: LogFilter = {}): Promise<LogLine[]> {
    const recent = this.fromRing(before, n, filter);
    if (recent.length >= n) return recent;
    // The ring holds every line from its oldest on; older ones are on disk once the queue is written.
    const oldest = this.oldestInRing();
    const below = oldest === null ? before : Math.min(before, oldest);
    await this.file.flush();
    const older = await readBefore(this.file.path, this.maxFiles, {
      before: below,
      lines: n - recent.length,
      ...filter,
    });
    return [...older, ...recent];
  }

  onLine(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): { droppedLines: number; bytesWritten: number; file: string } {
    return { droppedLines: this.dropped, bytesWritten: this.file.bytesWritten, file: this.file.path };
  }

  /**
   * Resolves when every line so far is in the file (or counted as dropped); the file stays open.
   * For "the log is complete before the stop is reported" while the log lives on across runs.
   */
  flush(): Promise<void> {
    return this.file.flush();
  }

  /**
   * Ends every unfinished line, writes everything queued and closes the file. Output that arrives
   * later is still drained from the pipes, but goes nowhere.
   */
  async close(): Promise<void> {
    if (this.closed) return this.file.close();
    for (const reader of this.readers) reader.flush();
    this.readers.clear();
    if (this.dropping) this.tryResume();
    this.closed = true;
    await this.file.close();
  }

  /** Up to `n` lines of the ring numbered below `before`, oldest first. */
  private fromRing(before: number, n: number, filter: LogFilter): LogLine[] {
    const out: LogLine[] = [];
    const size = this.ring.length;
    for (let i = 1; i <= size && out.length < n; i++) {
      const line = this.ring[(this.ringNext - i + size) % size];
      if (!line) break;
      if (line.seq >= before) continue;
      if (filter.stream && line.stream !== filter.stream) continue;
      if (filter.contains !== undefined && !line.text.includes(filter.contains)) continue;
      out.push(line);
    }
    return out.reverse();
  }

  private oldestInRing(): number | null {
    const oldest = this.ring[this.ringNext] ?? this.ring[0];
    return oldest?.seq ?? null;
  }

  private add(stream: LogLine['stream'], pid: number | null, text: string): void {
    if (this.dropping && !this.closed) this.tryResume();
    const line = this.publish(stream, pid, text);
    if (this.closed) return;
    const lowSpace = !this.space.enough();
    if (!lowSpace && !this.dropping && this.file.write(this.format(line))) return;
    this.drop(() => (lowSpace ? this.lowSpaceReason() : this.refusalReason()));
  }

  /** Gives the line a number and shows it to the ring and the listeners. */
  private publish(stream: LogLine['stream'], pid: number | null, text: string, at = this.now()): LogLine {
    const line: LogLine = { seq: ++this.seq, at, stream, pid, text };
    this.ring[this.ringNext] = line;
    this.ringNext = (this.ringNext + 1) % this.ring.length;
    for (const listener of this.listeners) {
      try {
        listener(line);
      } catch {
        // A broken listener (a UI subscription) must not stop the log.
      }
    }
    return line;
  }

  private drop(reason: () => string): void {
    this.dropped += 1;
    if (this.dropping) {
      this.dropping.count += 1;
      return;
    }
    this.dropping = { reason: reason(), count: 1 };
    // Ring and listeners only: the file is the thing that is not taking lines.
    this.publish('vigil', null, `log file: dropping lines: ${this.dropping.reason}`);
  }

  /** When the file takes lines again, its first line is the tally of what it missed. */
  private tryResume(): void {
    // Cheap checks first: while a flood keeps the queue full this runs for every line.
    if (!this.space.enough() || !this.file.wouldAccept(RESUME_NOTE_BYTES)) return;
    const { reason, count } = this.dropping!;
    const text = `log file: writing again; dropped ${count} line${count === 1 ? '' : 's'} (${reason})`;
    const at = this.now();
    // Written first (it may be refused), with the number publish gives it next.
    if (!this.file.write(this.format({ seq: this.seq + 1, at, stream: 'vigil', pid: null, text }))) return;
    this.dropping = null;
    this.publish('vigil', null, text, at);
  }

  private lostOnDisk(error: Error, lost: number): void {
    // Nothing lost yet: the next line is refused by the failing file and starts the count.
    if (lost === 0) return;
    this.dropped += lost;
    if (this.dropping) {
      this.dropping.count += lost;
      return;
    }
    const reason = `write failed: ${describeError(error)}`;
    this.dropping = { reason, count: lost };
    this.publish('vigil', null, `log file: dropping lines: ${reason}`);
  }

  private refusalReason(): string {
    const failure = this.file.failure;
    if (failure) return `write failed: ${describeError(failure)}`;
    if (this.closed) return 'log closed';
    return `more than ${formatBytes(this.file.pendingBytes)} waiting for the disk`;
  }

  private lowSpaceReason(): string {
    const free = this.space.lastFreeBytes ?? 0;
    return `only ${formatBytes(free)} free on the disk (minimum ${formatBytes(this.minFreeBytes)})`;
  }

  /** One line of the file (log-files.ts says how it reads). */
  private format(line: LogLine): string {
    // A flood puts thousands of lines in one millisecond: format its timestamp once.
    if (this.isoCache.at !== line.at) this.isoCache = { at: line.at, iso: new Date(line.at).toISOString() };
    return formatLine(this.isoCache.iso, line.seq, line.stream, line.pid, line.text);
  }
}

/**
 * Cuts a byte stream into lines: partial lines wait for the rest, CRLF and LF both end a line, and a
 * line longer than the limit is split (at a UTF-8 character boundary) so memory stays bounded.
 */
class LineReader {
  private readonly maxLineBytes: number;
  private readonly emit: (text: string) => void;
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(maxLineBytes: number, emit: (text: string) => void) {
    this.maxLineBytes = maxLineBytes;
    this.emit = emit;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      if (this.partialBytes > 0) {
        const line = Buffer.concat([...this.partial, chunk.subarray(start, nl)]);
        this.partial = [];
        this.partialBytes = 0;
        this.emitLine(line);
      } else {
        // The common case, decoded straight from the chunk: no intermediate buffer per line.
        const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
        if (end - start <= this.maxLineBytes) this.emit(chunk.toString('utf8', start, end));
        else this.emitLine(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      // Copied: a small remainder must not keep the whole 64 KiB chunk alive.
      const rest = Buffer.from(chunk.subarray(start));
      this.partial.push(rest);
      this.partialBytes += rest.length;
      if (this.partialBytes > this.maxLineBytes) this.splitLongPartial();
    }
  }

  /** The stream ended (or the log closes): an unfinished last line is still a line. */
  flush(): void {
    if (this.partialBytes === 0) return;
    const line = Buffer.concat(this.partial);
    this.partial = [];
    this.partialBytes = 0;
    this.emitLine(line);
  }

  private emitLine(bytes: Buffer): void {
    let line = bytes;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    while (line.length > this.maxLineBytes) {
      const cut = utf8Boundary(line, this.maxLineBytes);
      this.emit(line.toString('utf8', 0, cut));
      line = line.subarray(cut);
    }
    this.emit(line.toString('utf8'));
  }

  private splitLongPartial(): void {
    let rest = Buffer.concat(this.partial);
    while (rest.length > this.maxLineBytes) {
      const cut = utf8Boundary(rest, this.maxLineBytes);
      this.emit(rest.toString('utf8', 0, cut));
      rest = rest.subarray(cut);
    }
    this.partial = [Buffer.from(rest)];
    this.partialBytes = rest.length;
  }
}

/** The largest cut ≤ limit that does not fall inside a multi-byte UTF-8 character. */
function utf8Boundary(bytes: Buffer, limit: number): number {
  let cut = limit;
  // Continuation bytes are 10xxxxxx; a character is at most 4 bytes, so back up at most 3.
  while (cut > limit - 3 && cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return cut > 0 ? cut : limit;
}

function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code} (${error.message})` : error.message;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
