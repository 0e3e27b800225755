/**
 * A trial's equity curve as it travels from the optimizer to the core and sits in control.db: its
 * [at, equity] points as little-endian Float64 pairs. On the wire they are one base64 string per
 * curve, so the core parses and checks one short string per curve instead of hundreds of numbers
 * (it receives over a hundred trials a second from a busy search, on the machine the trader uses),
 * and stores the decoded bytes as they are.
 */
import type { EquityPoint } from '../../shared/optimizer-api';

const POINT_BYTES = 16;

/** The curve as base64 of its Float64 pairs ('' for none). */
export function encodeEquity(points: readonly EquityPoint[]): string {
  const bytes = Buffer.alloc(points.length * POINT_BYTES);
  points.forEach((p, i) => {
    bytes.writeDoubleLE(p.at, i * POINT_BYTES);
    bytes.writeDoubleLE(p.equity, i * POINT_BYTES + 8);
  });
  return bytes.toString('base64');
}

/** The stored bytes of an encoded curve (checked by the protocol's schema before it gets here). */
export function equityBytes(encoded: string): Buffer {
  return Buffer.from(encoded, 'base64');
}

/** The points of stored bytes. */
export function equityPoints(bytes: Uint8Array): EquityPoint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: EquityPoint[] = [];
  for (let o = 0; o + POINT_BYTES <= bytes.byteLength; o += POINT_BYTES) {
    out.push({ at: view.getFloat64(o, true), equity: view.getFloat64(o + 8, true) });
  }
  return out;
}
