/**
 * The embedded bus wire format over a stream socket: frames of a 4-byte big-endian length followed by a
 * UTF-8 JSON body. Subscriber → publisher: `hello`, `sub`, `unsub`; publisher → subscriber: `batch`, `gap`.
 */
import { MAX_MESSAGE_BYTES } from './types';

/** One message on the wire: [subject, at (epoch ms), data]. */
export type WireMessage = [subject: string, at: number, data: unknown];

export type HelloFrame = { t: 'hello'; id: string };
export type SubFrame = { t: 'sub'; patterns: string[] };
export type UnsubFrame = { t: 'unsub'; patterns: string[] };
export type BatchFrame = { t: 'batch'; msgs: WireMessage[] };
export type GapFrame = {
  t: 'gap';
  reason: 'disconnected' | 'dropped';
  dropped?: number;
  from: number;
  to: number;
};

export type SubscriberFrame = HelloFrame | SubFrame | UnsubFrame;
export type PublisherFrame = BatchFrame | GapFrame;
export type Frame = SubscriberFrame | PublisherFrame;

export const HEADER_BYTES = 4;
/**
 * Batches are closed once their body reaches MAX_MESSAGE_BYTES, so a frame never exceeds twice that
 * (plus framing); anything larger is garbage and must not make the reader buffer without bound.
 */
export const BATCH_MAX_BODY_BYTES = MAX_MESSAGE_BYTES;
export const MAX_FRAME_BYTES = 2 * MAX_MESSAGE_BYTES + 64 * 1024;

export function encodeFrame(frame: Frame): Buffer {
  return encodeBody(JSON.stringify(frame));
}

export function encodeBody(json: string): Buffer {
  const length = Buffer.byteLength(json);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + length);
  buf.writeUInt32BE(length, 0);
  buf.write(json, HEADER_BYTES, 'utf8');
  return buf;
}

/** One message's pre-serialized batch entry, so fan-out to many subscribers serializes data once. */
export function encodeWireMessage(subject: string, at: number, dataJson: string): string {
  return `[${JSON.stringify(subject)},${at},${dataJson}]`;
}

/** A batch body built from pre-serialized entries (see encodeWireMessage). */
export function encodeBatch(entries: readonly string[]): Buffer {
  return encodeBody(`{"t":"batch","msgs":[${entries.join(',')}]}`);
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Shape check of a decoded body; returns undefined for anything that is not a known frame. */
export function parseFrame(value: unknown): Frame | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Record<string, unknown>;
  switch (f.t) {
    case 'hello':
      return typeof f.id === 'string' ? (f as HelloFrame) : undefined;
    case 'sub':
    case 'unsub':
      return isStringArray(f.patterns) ? (f as SubFrame | UnsubFrame) : undefined;
    case 'batch':
      return Array.isArray(f.msgs) &&
        f.msgs.every((m) => Array.isArray(m) && m.length === 3 && typeof m[0] === 'string' && isTime(m[1]))
        ? (f as BatchFrame)
        : undefined;
    case 'gap':
      return (f.reason === 'disconnected' || f.reason === 'dropped') &&
        isTime(f.from) &&
        isTime(f.to) &&
        (f.dropped === undefined || isTime(f.dropped))
        ? (f as GapFrame)
        : undefined;
    default:
      return undefined;
  }
}

export type DecodeResult = { ok: true } | { ok: false; reason: string };

/**
 * Incremental frame reader. `push` never throws: a bad length, bad JSON or an unknown frame returns
 * `{ ok: false }` and the reader stays failed, so the caller closes the connection and counts it.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: string | undefined;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly maxFrameBytes = MAX_FRAME_BYTES,
  ) {}

  push(chunk: Buffer): DecodeResult {
    if (this.failed) return { ok: false, reason: this.failed };
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= HEADER_BYTES) {
      const head = this.contiguous(HEADER_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrameBytes)
        return this.fail(`frame length ${length} exceeds ${this.maxFrameBytes}`);
      if (this.buffered < HEADER_BYTES + length) break;
      const whole = this.contiguous(HEADER_BYTES + length);
      const body = whole.toString('utf8', HEADER_BYTES, HEADER_BYTES + length);
      this.consume(HEADER_BYTES + length);
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return this.fail('frame body is not JSON');
      }
      const frame = parseFrame(value);
      if (!frame) return this.fail('unknown or malformed frame');
      this.onFrame(frame);
    }
    return { ok: true };
  }

  private fail(reason: string): DecodeResult {
    this.failed = reason;
    this.chunks = [];
    this.buffered = 0;
    return { ok: false, reason };
  }

  /** The first `n` buffered bytes as one Buffer, concatenating chunks only when a frame spans them. */
  private contiguous(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const merged = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [merged];
    return merged;
  }

  private consume(n: number): void {
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
  }
}
