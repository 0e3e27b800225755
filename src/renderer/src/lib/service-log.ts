/** The log tail's data, as plain code: a bounded ring of lines, filters, search marks, copy text. */
import type { LogLine } from '../../../shared/services';

export type LogStream = LogLine['stream'];
export const logStreams: readonly LogStream[] = ['out', 'err', 'vigil'];

/** A fixed-size ring: pushing past the capacity drops the oldest line, with no copying. */
export class LineRing {
  private readonly buf: (LogLine | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<LogLine | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds the newest line; returns the oldest one when it had to make room. */
  push(line: LogLine): LogLine | null {
    if (this.count < this.capacity) {
      this.buf[(this.head + this.count) % this.capacity] = line;
      this.count += 1;
      return null;
    }
    const dropped = this.buf[this.head]!;
    this.buf[this.head] = line;
    this.head = (this.head + 1) % this.capacity;
    return dropped;
  }

  /** The oldest line, or null when empty. */
  first(): LogLine | null {
    return this.count === 0 ? null : this.buf[this.head]!;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /** Oldest first. */
  toArray(): LogLine[] {
    const out = new Array<LogLine>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.buf[(this.head + i) % this.capacity]!;
    return out;
  }
}

export interface LogFilter {
  streams: ReadonlySet<LogStream>;
  search: string;
  /** Only the lines that contain `search` (otherwise they are only marked). */
  onlyMatching: boolean;
}

export function matches(line: LogLine, needle: string): boolean {
  return needle === '' || line.text.toLowerCase().includes(needle);
}

export function filterLines(lines: readonly LogLine[], f: LogFilter): { shown: LogLine[]; matching: number } {
  const needle = f.search.toLowerCase();
  const all = f.streams.size === logStreams.length;
  const shown: LogLine[] = [];
  let matching = 0;
  for (const line of lines) {
    if (!all && !f.streams.has(line.stream)) continue;
    const hit = needle !== '' && matches(line, needle);
    if (hit) matching += 1;
    if (f.onlyMatching && needle !== '' && !hit) continue;
    shown.push(line);
  }
  return { shown, matching };
}

/** The text cut at each case-insensitive occurrence of `search`: odd pieces are the matches. */
export function splitMatches(text: string, search: string): string[] {
  if (search === '') return [text];
  const hay = text.toLowerCase();
  const needle = search.toLowerCase();
  const parts: string[] = [];
  let from = 0;
  for (let at = hay.indexOf(needle); at !== -1; at = hay.indexOf(needle, from)) {
    parts.push(text.slice(from, at), text.slice(at, at + needle.length));
    from = at + needle.length;
  }
  parts.push(text.slice(from));
  return parts;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** 13:37:05.123 (local time) */
export function lineTime(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** What Copy puts on the clipboard: one line each, as shown (time, stream, text). */
export function copyTextOf(lines: readonly LogLine[]): string {
  return lines.map((l) => `${lineTime(l.at)} ${l.stream.padEnd(5)} ${l.text}`).join('\n');
}

export function isLogLine(value: unknown): value is LogLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.seq === 'number' &&
    typeof v.at === 'number' &&
    typeof v.text === 'string' &&
    typeof v.stream === 'string'
  );
}
