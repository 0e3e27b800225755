/**
 * Binance spot and USD-M payload parsers: WebSocket messages (raw or combined-stream wrapped) and the
 * REST bodies the collector polls. Hot path: one JSON.parse, hand-written field checks, and level
 * arrays converted from decimal strings to numbers in place (no copies). Nothing here throws: a bad
 * message becomes `{ kind: 'invalid', reason }` so one malformed frame never takes a collector down.
 */
import type {
  FundingRecord,
  Level,
  LiquidationRecord,
  LongShortRecord,
  OpenInterestRecord,
  TopOfBookRecord,
  TradeRecord,
} from '../../../shared/market';

export type BinanceVenue = 'binance-spot' | 'binance-usdm';

/** A diff-depth event (`depthUpdate`), field names as Binance sends them. */
export interface DepthDiff {
  /** First update id in the event. */
  U: number;
  /** Final update id in the event. */
  u: number;
  /** USD-M only: the final update id of the previous event (the chain to check). */
  pu?: number;
  /** Event time, epoch ms. */
  E: number;
  /** USD-M only: transaction time, epoch ms. */
  T?: number;
  /** Absolute sizes; size 0 removes the level. */
  bids: Level[];
  asks: Level[];
}

/** A REST depth snapshot (`/api/v3/depth`, `/fapi/v1/depth`). */
export interface DepthSnapshot {
  lastUpdateId: number;
  /** USD-M only: message output time and transaction time, epoch ms. */
  E?: number;
  T?: number;
  bids: Level[];
  asks: Level[];
}

export type BinanceRecord = TradeRecord | TopOfBookRecord | FundingRecord | LiquidationRecord;

export type BinanceMessage =
  | { kind: 'depth'; symbol: string; event: DepthDiff }
  | {
      kind: 'record';
      record: BinanceRecord;
      /**
       * Trades only, for the trade-id gap check (`firstId` should be the previous `lastId` + 1):
       * `trade` gives `t` twice; `aggTrade` gives the underlying trade ids `f` and `l` (its own id
       * `a` is `record.id`).
       */
      firstId?: number;
      lastId?: number;
    }
  | {
      kind: 'control';
      /** The id of the request this answers (null when the server could not read one). */
      id: number | string | null;
      /** The request's result (`null` for SUBSCRIBE/UNSUBSCRIBE, a list for LIST_SUBSCRIPTIONS). */
      result?: unknown;
      error?: { code: number | null; msg: string };
    }
  | { kind: 'server-shutdown'; at: number }
  | { kind: 'invalid'; reason: string };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

type Json = Record<string, unknown>;

/**
 * A decimal string (or a JSON number) as a number; NaN when it is anything else. Only numbers and
 * non-empty strings: `Number('')` and `Number(null)` would silently give 0.
 */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return +v;
  return NaN;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(reason: string): BinanceMessage {
  return { kind: 'invalid', reason };
}

/**
 * Converts `[["95000.10","0.250"],…]` to Level[] in place (the parsed JSON is ours to reuse).
 * Returns an error text, or undefined when every level has a finite price > 0 and a size >= 0.
 */
function toLevels(v: unknown, name: string): string | undefined {
  if (!Array.isArray(v)) return `${name} is not an array`;
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (!Array.isArray(l) || l.length < 2) return `${name}[${i}] is not a [price, size] pair`;
    const p = num(l[0]);
    const s = num(l[1]);
    if (!(p > 0) || p === Infinity)
      return `${name}[${i}] price ${JSON.stringify(l[0])} is not a positive number`;
    if (!(s >= 0) || s === Infinity) return `${name}[${i}] size ${JSON.stringify(l[1])} is not a number >= 0`;
    l[0] = p;
    l[1] = s;
    if (l.length > 2) l.length = 2;
  }
  return undefined;
}

function symbolOf(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Parses one WebSocket text frame. `venue` decides which fields are required (USD-M depth must carry
 * `pu`); `localTs` is when the frame was received.
 */
export function parseMessage(text: string, venue: BinanceVenue, localTs: number): BinanceMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return invalid('invalid JSON');
  }
  if (!isObject(msg)) return invalid('not a JSON object');
  let data: unknown = msg;
  const stream = msg.stream;
  if (typeof stream === 'string') {
    data = msg.data;
    if (stream === '!serverShutdown') {
      const at = isObject(data) ? data.E : undefined;
      return { kind: 'server-shutdown', at: isInt(at) ? at : localTs };
    }
    if (!isObject(data)) return invalid(`stream ${stream}: data is not an object`);
  }
  return parsePayload(data as Json, venue, localTs);
}

/** Parses an already-unwrapped payload object (the `data` of a combined-stream message, or a raw one). */
export function parsePayload(d: Json, venue: BinanceVenue, localTs: number): BinanceMessage {
  const e = d.e;
  switch (e) {
    case 'depthUpdate':
      return parseDepth(d, venue);
    case 'aggTrade':
      return parseTrade(d, venue, localTs, true);
    case 'trade':
      return parseTrade(d, venue, localTs, false);
    case 'bookTicker':
      return parseBookTicker(d, venue, localTs);
    case 'markPriceUpdate':
      return parseMarkPrice(d, venue, localTs);
    case 'forceOrder':
      return parseForceOrder(d, venue, localTs);
    case 'serverShutdown':
      return { kind: 'server-shutdown', at: isInt(d.E) ? d.E : localTs };
    case undefined:
      break;
    default:
      return invalid(`unknown event type ${JSON.stringify(e)}`);
  }
  // No `e`: a control answer, or a spot bookTicker (which has no event type).
  if ('id' in d && ('result' in d || 'error' in d || 'code' in d)) return parseControl(d);
  if ('u' in d && 'b' in d && 'B' in d && 'a' in d && 'A' in d) return parseBookTicker(d, venue, localTs);
  if ('lastUpdateId' in d) return invalid('partial book depth snapshots are not supported');
  return invalid('no event type');
}

function parseControl(d: Json): BinanceMessage {
  const rawId = d.id;
  const id = typeof rawId === 'number' || typeof rawId === 'string' ? rawId : null;
  // Errors arrive as {"error":{"code","msg"},"id"} and, in older doc text, as {"code","msg","id"}.
  const err = isObject(d.error) ? d.error : 'code' in d ? d : undefined;
  if (err !== undefined) {
    const code = typeof err.code === 'number' ? err.code : null;
    const msg = typeof err.msg === 'string' ? err.msg : JSON.stringify(err);
    return { kind: 'control', id, error: { code, msg } };
  }
  return { kind: 'control', id, result: d.result };
}

function parseDepth(d: Json, venue: BinanceVenue): BinanceMessage {
  const symbol = symbolOf(d.s);
  if (symbol === undefined) return invalid('depthUpdate: missing symbol s');
  const { U, u, E } = d;
  if (!isInt(U) || !isInt(u)) return invalid('depthUpdate: U and u must be integers');
  if (U > u) return invalid(`depthUpdate: U ${U} > u ${u}`);
  if (!isInt(E)) return invalid('depthUpdate: missing event time E');
  const event: DepthDiff = { U, u, E, bids: d.b as Level[], asks: d.a as Level[] };
  if (venue === 'binance-usdm') {
    if (!isInt(d.pu)) return invalid('depthUpdate: USD-M event without an integer pu');
    event.pu = d.pu;
    if (d.T !== undefined) {
      if (!isInt(d.T)) return invalid('depthUpdate: T is not an integer');
      event.T = d.T;
    }
  }
  const err = toLevels(d.b, 'b') ?? toLevels(d.a, 'a');
  if (err !== undefined) return invalid(`depthUpdate: ${err}`);
  return { kind: 'depth', symbol, event };
}

function parseTrade(d: Json, venue: BinanceVenue, localTs: number, agg: boolean): BinanceMessage {
  const what = agg ? 'aggTrade' : 'trade';
  const symbol = symbolOf(d.s);
  if (symbol === undefined) return invalid(`${what}: missing symbol s`);
  const id = agg ? d.a : d.t;
  if (!isInt(id)) return invalid(`${what}: ${agg ? 'a' : 't'} is not an integer id`);
  let firstId = id;
  let lastId = id;
  if (agg) {
    if (!isInt(d.f) || !isInt(d.l)) return invalid('aggTrade: f and l must be integer trade ids');
    firstId = d.f;
    lastId = d.l;
  }
  const price = num(d.p);
  const size = num(d.q);
  if (!(price > 0) || price === Infinity) return invalid(`${what}: price p is not a positive number`);
  if (!(size >= 0) || size === Infinity) return invalid(`${what}: quantity q is not a number >= 0`);
  const T = d.T;
  if (!isInt(T)) return invalid(`${what}: missing trade time T`);
  if (typeof d.m !== 'boolean') return invalid(`${what}: m is not a boolean`);
  const record: TradeRecord = {
    venue,
    symbol,
    exchangeTs: T,
    localTs,
    type: 'trade',
    id: String(id),
    price,
    size,
    // m: the buyer is the maker, so the taker sold.
    side: d.m ? 'sell' : 'buy',
  };
  return { kind: 'record', record, firstId, lastId };
}

function parseBookTicker(d: Json, venue: BinanceVenue, localTs: number): BinanceMessage {
  const symbol = symbolOf(d.s);
  if (symbol === undefined) return invalid('bookTicker: missing symbol s');
  const bidPrice = num(d.b);
  const bidSize = num(d.B);
  const askPrice = num(d.a);
  const askSize = num(d.A);
  // An empty side is sent as price 0, so prices may be 0 here.
  if (!(bidPrice >= 0 && bidPrice < Infinity && askPrice >= 0 && askPrice < Infinity)) {
    return invalid('bookTicker: b and a must be prices');
  }
  if (!(bidSize >= 0 && bidSize < Infinity && askSize >= 0 && askSize < Infinity)) {
    return invalid('bookTicker: B and A must be sizes >= 0');
  }
  // Spot bookTicker carries no time at all: the receive time is the best we have.
  let exchangeTs = localTs;
  if (isInt(d.T)) exchangeTs = d.T;
  else if (isInt(d.E)) exchangeTs = d.E;
  const record: TopOfBookRecord = {
    venue,
    symbol,
    exchangeTs,
    localTs,
    type: 'top',
    bidPrice,
    bidSize,
    askPrice,
    askSize,
  };
  return { kind: 'record', record };
}

function parseMarkPrice(d: Json, venue: BinanceVenue, localTs: number): BinanceMessage {
  const symbol = symbolOf(d.s);
  if (symbol === undefined) return invalid('markPriceUpdate: missing symbol s');
  if (!isInt(d.E)) return invalid('markPriceUpdate: missing event time E');
  const rate = num(d.r);
  // Delivery contracts send r "" and T 0: they have no funding.
  if (!Number.isFinite(rate)) return invalid('markPriceUpdate: funding rate r is not a number');
  if (!isInt(d.T) || d.T <= 0) return invalid('markPriceUpdate: next funding time T is missing');
  const markPrice = num(d.p);
  if (!(markPrice > 0) || markPrice === Infinity)
    return invalid('markPriceUpdate: mark price p is not a price');
  const record: FundingRecord = {
    venue,
    symbol,
    exchangeTs: d.E,
    localTs,
    type: 'funding',
    rate,
    nextFundingTime: d.T,
    markPrice,
  };
  if (d.i !== undefined) {
    const indexPrice = num(d.i);
    if (!(indexPrice > 0) || indexPrice === Infinity) {
      return invalid('markPriceUpdate: index price i is not a price');
    }
    record.indexPrice = indexPrice;
  }
  return { kind: 'record', record };
}

function parseForceOrder(d: Json, venue: BinanceVenue, localTs: number): BinanceMessage {
  const o = d.o;
  if (!isObject(o)) return invalid('forceOrder: o is not an object');
  const symbol = symbolOf(o.s);
  if (symbol === undefined) return invalid('forceOrder: missing symbol o.s');
  const side = o.S === 'SELL' ? 'sell' : o.S === 'BUY' ? 'buy' : undefined;
  if (side === undefined) return invalid('forceOrder: side o.S is not BUY or SELL');
  // The average fill price when there is one, else the order price.
  const avg = num(o.ap);
  const price = avg > 0 ? avg : num(o.p);
  if (!(price > 0) || price === Infinity) return invalid('forceOrder: neither o.ap nor o.p is a price');
  const filled = num(o.z);
  const size = filled > 0 ? filled : num(o.q);
  if (!(size >= 0) || size === Infinity) return invalid('forceOrder: neither o.z nor o.q is a size');
  if (!isInt(o.T)) return invalid('forceOrder: missing trade time o.T');
  const record: LiquidationRecord = {
    venue,
    symbol,
    exchangeTs: o.T,
    localTs,
    type: 'liquidation',
    side,
    price,
    size,
    partial: true,
  };
  return { kind: 'record', record };
}

function bodyOf(json: unknown): ParseResult<unknown> {
  if (typeof json !== 'string') return { ok: true, value: json };
  try {
    return { ok: true, value: JSON.parse(json) };
  } catch {
    return { ok: false, error: 'invalid JSON' };
  }
}

/**
 * A REST depth snapshot, from its text or its parsed JSON (whose level arrays are converted in place).
 * A Binance error body (`{"code":-1121,"msg":"Invalid symbol."}`) becomes an error naming it.
 */
export function parseDepthSnapshot(json: unknown): ParseResult<DepthSnapshot> {
  const body = bodyOf(json);
  if (!body.ok) return body;
  const d = body.value;
  if (!isObject(d)) return { ok: false, error: 'depth snapshot is not an object' };
  if (typeof d.msg === 'string') return { ok: false, error: `Binance error ${String(d.code)}: ${d.msg}` };
  if (!isInt(d.lastUpdateId)) return { ok: false, error: 'depth snapshot: lastUpdateId is not an integer' };
  const err = toLevels(d.bids, 'bids') ?? toLevels(d.asks, 'asks');
  if (err !== undefined) return { ok: false, error: `depth snapshot: ${err}` };
  const value: DepthSnapshot = {
    lastUpdateId: d.lastUpdateId,
    bids: d.bids as Level[],
    asks: d.asks as Level[],
  };
  if (isInt(d.E)) value.E = d.E;
  if (isInt(d.T)) value.T = d.T;
  return { ok: true, value };
}

/** `GET /fapi/v1/openInterest` → an OpenInterestRecord (USD-M; the amount is in the base asset). */
export function parseOpenInterest(json: unknown, localTs: number): ParseResult<OpenInterestRecord> {
  const body = bodyOf(json);
  if (!body.ok) return body;
  const d = body.value;
  if (!isObject(d)) return { ok: false, error: 'open interest is not an object' };
  if (typeof d.msg === 'string') return { ok: false, error: `Binance error ${String(d.code)}: ${d.msg}` };
  const symbol = symbolOf(d.symbol);
  if (symbol === undefined) return { ok: false, error: 'open interest: missing symbol' };
  const openInterest = num(d.openInterest);
  if (!(openInterest >= 0) || openInterest === Infinity) {
    return { ok: false, error: 'open interest: openInterest is not a number >= 0' };
  }
  const time = num(d.time);
  if (!Number.isSafeInteger(time)) return { ok: false, error: 'open interest: time is not an epoch ms' };
  return {
    ok: true,
    value: { venue: 'binance-usdm', symbol, exchangeTs: time, localTs, type: 'oi', openInterest },
  };
}

/**
 * `GET /futures/data/globalLongShortAccountRatio` (and the top-trader variants, same row shape) →
 * LongShortRecords, one per row, in the order given. `period` is the one asked for (e.g. `5m`).
 */
export function parseLongShortRatio(
  rows: unknown,
  localTs: number,
  period: string,
): ParseResult<LongShortRecord[]> {
  const body = bodyOf(rows);
  if (!body.ok) return body;
  const list = body.value;
  if (isObject(list) && typeof list.msg === 'string') {
    return { ok: false, error: `Binance error ${String(list.code)}: ${list.msg}` };
  }
  if (!Array.isArray(list)) return { ok: false, error: 'long/short ratio: not an array' };
  const out: LongShortRecord[] = [];
  for (let i = 0; i < list.length; i++) {
    const r: unknown = list[i];
    if (!isObject(r)) return { ok: false, error: `long/short ratio: row ${i} is not an object` };
    const symbol = symbolOf(r.symbol);
    if (symbol === undefined) return { ok: false, error: `long/short ratio: row ${i} has no symbol` };
    const ratio = num(r.longShortRatio);
    const longAccount = num(r.longAccount);
    const shortAccount = num(r.shortAccount);
    // The timestamp comes as a string in the docs' examples and as a number in some responses.
    const ts = num(r.timestamp);
    if (!(ratio >= 0 && ratio < Infinity && longAccount >= 0 && longAccount <= 1)) {
      return { ok: false, error: `long/short ratio: row ${i} has a bad longShortRatio or longAccount` };
    }
    if (!(shortAccount >= 0 && shortAccount <= 1)) {
      return { ok: false, error: `long/short ratio: row ${i} has a bad shortAccount` };
    }
    if (!Number.isSafeInteger(ts))
      return { ok: false, error: `long/short ratio: row ${i} has a bad timestamp` };
    out.push({
      venue: 'binance-usdm',
      symbol,
      exchangeTs: ts,
      localTs,
      type: 'lsr',
      period,
      ratio,
      longAccount,
      shortAccount,
    });
  }
  return { ok: true, value: out };
}
