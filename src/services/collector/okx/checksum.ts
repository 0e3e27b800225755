/**
 * The OKX order-book checksum (reference/exchanges.md B3, legacy construction): the first 25 bids and
 * 25 asks of the local book, interleaved as `bid1px:bid1sz:ask1px:ask1sz:bid2px:…` (a side with fewer
 * levels simply contributes fewer entries), with the price and size strings exactly as OKX sent them,
 * CRC32 of that text read as a signed 32-bit integer. OKX sends 0 since June 2026: check only non-zero.
 */
import { crc32 } from 'node:zlib';

export const CHECKSUM_LEVELS = 25;

/** A level's original strings: [price, size]. */
export type RawLevel = readonly [price: string, size: string];

/** The text the checksum is computed over, from each side's levels best-first. */
export function checksumText(bids: readonly RawLevel[], asks: readonly RawLevel[]): string {
  const parts: string[] = [];
  for (let i = 0; i < CHECKSUM_LEVELS; i++) {
    const bid = bids[i];
    const ask = asks[i];
    if (bid) parts.push(bid[0], bid[1]);
    if (ask) parts.push(ask[0], ask[1]);
  }
  return parts.join(':');
}

/** CRC32 of `text` as OKX sends it: signed 32-bit. */
export function signedCrc32(text: string): number {
  return crc32(text) | 0;
}

export function bookChecksum(bids: readonly RawLevel[], asks: readonly RawLevel[]): number {
  return signedCrc32(checksumText(bids, asks));
}
