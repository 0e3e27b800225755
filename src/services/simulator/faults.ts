/**
 * Faults the simulator can inject, one venue at a time, so collectors can be tested against the
 * failures the real exchanges produce: lost depth events, silently dead sockets, disconnects,
 * announced shutdowns, REST bans, garbage on the wire and corrupted books.
 */
import { z } from 'zod';
import { simVenues, type SimVenue } from './market';

const venue = z.enum(simVenues);
const symbol = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9_-]{1,39}$/, 'an upper-case instrument such as BTCUSDT, BTC-USDT-SWAP');

export const faultSchema = z.discriminatedUnion('type', [
  /**
   * The next depth event of each depth stream of the symbol is lost: ids skip (Binance spot) or the
   * chain breaks (`pu`, OKX `prevSeqId`, Deribit `prev_change_id`).
   */
  z.object({ type: z.literal('gap'), venue, symbol }).strict(),
  /** OKX: a keep-alive book update now (empty, `seqId == prevSeqId`), as after 60 s without change. */
  z.object({ type: z.literal('keepalive'), venue, symbol }).strict(),
  /** OKX: the book's sequence restarts from a small number, as after maintenance (`seqId < prevSeqId`). */
  z.object({ type: z.literal('sequence-reset'), venue, symbol }).strict(),
  /**
   * The server hangs for `ms`: its sockets stay open but carry nothing (no data, no pings, no replies),
   * and sockets opened meanwhile (a client's reconnects) are just as silent; what clients send is
   * answered when the stall ends. The latest stall sets the end; `ms: 0` lifts it. (OKX serves spot
   * and swap on one server: a stall of either silences both.)
   */
  z.object({ type: z.literal('stall'), venue, ms: z.number().int().min(0).max(3_600_000) }).strict(),
  /** Every WebSocket connection is dropped at once, without a close handshake. */
  z.object({ type: z.literal('disconnect'), venue }).strict(),
  /**
   * A planned disconnect announced on every connection (Binance `serverShutdown`, OKX notice 64008),
   * which is closed `graceMs` later.
   */
  z
    .object({
      type: z.literal('server-shutdown'),
      venue,
      graceMs: z.number().int().min(0).max(600_000).optional(),
    })
    .strict(),
  /**
   * The next `count` requests are refused: Binance REST with 429 or 418 and Retry-After; OKX REST with
   * 429 (code 50011) and WebSocket subscribes with error 60014; Deribit with error 10028, closing the
   * session (`retryAfterSec`: how long until credits are back).
   */
  z
    .object({
      type: z.literal('rate-limit'),
      venue,
      status: z.union([z.literal(429), z.literal(418)]).optional(),
      retryAfterSec: z.number().int().min(0).max(259_200),
      count: z.number().int().min(1).max(1_000_000),
    })
    .strict(),
  /** A few bad messages on every connection: invalid JSON, an unknown event, a depthUpdate without fields. */
  z.object({ type: z.literal('malformed'), venue }).strict(),
  /** The next depth event of the symbol carries a bid above the best ask (the true book is not touched). */
  z.object({ type: z.literal('crossed'), venue, symbol }).strict(),
]);

export type Fault = z.infer<typeof faultSchema>;
export type FaultType = Fault['type'];

export const DEFAULT_SHUTDOWN_GRACE_MS = 1_000;

/**
 * Validates a fault from outside (the control endpoint). A missing `venue` means the venue whose server
 * received it. Errors name the field, so a typo in a test script is obvious.
 */
export function parseFault(
  input: unknown,
  defaultVenue?: SimVenue,
): { ok: true; fault: Fault } | { ok: false; error: string } {
  const withVenue =
    defaultVenue && input && typeof input === 'object' && !Array.isArray(input) && !('venue' in input)
      ? { ...input, venue: defaultVenue }
      : input;
  const parsed = faultSchema.safeParse(withVenue);
  if (parsed.success) return { ok: true, fault: parsed.data };
  const error = parsed.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'fault'}: ${issue.message}`)
    .join('; ');
  return { ok: false, error: `invalid fault: ${error}` };
}

/** Pending REST refusals of one venue (the rate-limit fault). */
export class RestRefusals {
  private remaining = 0;
  private status: 429 | 418 = 429;
  private retryAfterSec = 0;

  arm(fault: Extract<Fault, { type: 'rate-limit' }>): void {
    this.remaining = fault.count;
    this.status = fault.status ?? 429;
    this.retryAfterSec = fault.retryAfterSec;
  }

  /** The refusal for this request, if one is pending. */
  take(
    now: number,
  ): { status: 429 | 418; retryAfterSec: number; body: { code: number; msg: string } } | null {
    if (this.remaining <= 0) return null;
    this.remaining -= 1;
    const msg =
      this.status === 418
        ? `Way too much request weight used; IP banned until ${now + this.retryAfterSec * 1000}. Please use WebSocket Streams for live updates to avoid bans.`
        : 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.';
    return { status: this.status, retryAfterSec: this.retryAfterSec, body: { code: -1003, msg } };
  }
}

/**
 * The bad messages of the malformed fault for one connection, in the order they are sent. `wrap` is
 * the stream name to wrap them in on a combined connection (null on a raw one).
 */
export function malformedMessages(symbol: string, now: number, wrap: string | null): string[] {
  const unknownEvent = JSON.stringify({ e: 'mysteryEvent', E: now, s: symbol, x: 42 });
  // A depthUpdate that lost its ids and levels: a collector must drop it, not apply it.
  const truncatedDepth = JSON.stringify({ e: 'depthUpdate', E: now, s: symbol });
  const wrapped = (data: string): string => (wrap ? `{"stream":"${wrap}","data":${data}}` : data);
  return [
    `{"e":"depthUpdate","E":${now},"s":"${symbol}","U":`,
    wrapped(unknownEvent),
    wrapped(truncatedDepth),
  ];
}
