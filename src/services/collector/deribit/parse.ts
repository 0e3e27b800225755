/**
 * Deribit JSON-RPC message parsers (reference/exchanges.md B4): responses, heartbeats, and the
 * notifications of the book, trades, ticker and volatility-index channels, plus the result of
 * `public/get_volatility_index_data`. One JSON.parse and hand-written field checks; nothing here
 * throws: a bad message becomes `{ kind: 'invalid', reason }`, so one malformed frame never takes the
 * collector down. Amounts stay as sent (USD for inverse perpetuals).
 */
import type { Level, TradeRecord, VolatilityIndexRecord } from '../../../shared/market';

/** A book notification: the full book (`snapshot`) or the levels that changed (`change`). */
export interface BookEvent {
  type: 'snapshot' | 'change';
  changeId: number;
  /** Changes only: the `change_id` of the previous message; the chain to check. */
  prevChangeId?: number;
  timestamp: number;
  /** Absolute amounts; `delete` becomes amount 0. */
  bids: Level[];
  asks: Level[];
}

export interface ParsedTrade {
  /** Per instrument, contiguous: the gap check and the de-duplication key. */
  seq: number;
  record: TradeRecord;
}

export interface Ticker {
  timestamp: number;
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  markPrice: number;
  indexPrice?: number;
  /** Perpetuals only. */
  funding8h?: number;
  currentFunding?: number;
  openInterest?: number;
}

export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

export type DeribitMessage =
  | { kind: 'response'; id: number | string | null; result?: unknown; error?: RpcErrorBody }
  | { kind: 'heartbeat'; type: string }
  | { kind: 'book'; instrument: string; event: BookEvent }
  | { kind: 'trades'; instrument: string; trades: ParsedTrade[] }
  | { kind: 'ticker'; instrument: string; ticker: Ticker }
  | { kind: 'dvol'; currency: string; volatility: number; timestamp: number }
  | { kind: 'invalid'; reason: string };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function invalid(reason: string): DeribitMessage {
  return { kind: 'invalid', reason };
}

/** Parses one WebSocket text frame received at `localTs`. */
export function parseMessage(text: string, localTs: number): DeribitMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return invalid('invalid JSON');
  }
  if (!isObject(msg)) return invalid('not a JSON object');
  const method = msg.method;
  if (method === 'subscription') {
    const params = msg.params;
    if (!isObject(params) || typeof params.channel !== 'string') {
      return invalid('subscription without params.channel');
    }
    return parseNotification(params.channel, params.data, localTs);
  }
  if (method === 'heartbeat') {
    const type = isObject(msg.params) ? msg.params.type : undefined;
    if (typeof type !== 'string') return invalid('heartbeat without params.type');
    return { kind: 'heartbeat', type };
  }
  if (method !== undefined) return invalid(`unknown method ${JSON.stringify(method)}`);
  if ('result' in msg || 'error' in msg) return parseResponse(msg);
  return invalid('neither a notification nor a response');
}

function parseResponse(msg: Json): DeribitMessage {
  const rawId = msg.id;
  const id = typeof rawId === 'number' || typeof rawId === 'string' ? rawId : null;
  if ('error' in msg) {
    const e = msg.error;
    if (!isObject(e) || !isInt(e.code)) return invalid('error response without an integer error.code');
    const message = typeof e.message === 'string' ? e.message : '';
    const error: RpcErrorBody = { code: e.code, message };
    if (e.data !== undefined) error.data = e.data;
    return { kind: 'response', id, error };
  }
  return { kind: 'response', id, result: msg.result };
}

/** `book.X.100ms`, `trades.X.100ms`, `ticker.X.100ms`, `deribit_volatility_index.btc_usd`. */
export function parseNotification(channel: string, data: unknown, localTs: number): DeribitMessage {
  const parts = channel.split('.');
  const [kind, name] = parts;
  if (kind === 'deribit_volatility_index' && parts.length === 2) return parseDvol(name!, data);
  if (parts.length !== 3 || !name) {
    return invalid(`unsupported channel ${channel}`);
  }
  switch (kind) {
    case 'book':
      return parseBook(name, data);
    case 'trades':
      return parseTrades(name, data, localTs);
    case 'ticker':
      return parseTicker(name, data);
    default:
      return invalid(`unsupported channel ${channel}`);
  }
}

/** `[["new", 95000.0, 25000], ["delete", 94999.5, 0], …]` → Level[]; a string error when malformed. */
function toLevels(v: unknown, name: string): Level[] | string {
  if (!Array.isArray(v)) return `${name} is not an array`;
  const out: Level[] = new Array<Level>(v.length);
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (!Array.isArray(l) || l.length < 3) return `${name}[${i}] is not an [action, price, amount] triple`;
    const [action, price, amount] = l as unknown[];
    if (!isNum(price) || price <= 0)
      return `${name}[${i}] price ${JSON.stringify(price)} is not a positive number`;
    if (action === 'delete') {
      out[i] = [price, 0];
      continue;
    }
    if (action !== 'new' && action !== 'change')
      return `${name}[${i}] action ${JSON.stringify(action)} is unknown`;
    if (!isNum(amount) || amount < 0)
      return `${name}[${i}] amount ${JSON.stringify(amount)} is not a number >= 0`;
    out[i] = [price, amount];
  }
  return out;
}

function parseBook(instrument: string, d: unknown): DeribitMessage {
  if (!isObject(d)) return invalid(`book ${instrument}: data is not an object`);
  const type = d.type;
  if (type !== 'snapshot' && type !== 'change')
    return invalid(`book ${instrument}: type is not snapshot or change`);
  if (!isInt(d.change_id)) return invalid(`book ${instrument}: change_id is not an integer`);
  if (!isInt(d.timestamp)) return invalid(`book ${instrument}: timestamp is not an integer`);
  const bids = toLevels(d.bids, 'bids');
  if (typeof bids === 'string') return invalid(`book ${instrument}: ${bids}`);
  const asks = toLevels(d.asks, 'asks');
  if (typeof asks === 'string') return invalid(`book ${instrument}: ${asks}`);
  const event: BookEvent = { type, changeId: d.change_id, timestamp: d.timestamp, bids, asks };
  if (type === 'change') {
    if (!isInt(d.prev_change_id))
      return invalid(`book ${instrument}: a change without an integer prev_change_id`);
    event.prevChangeId = d.prev_change_id;
  }
  return { kind: 'book', instrument, event };
}

function parseTrades(instrument: string, d: unknown, localTs: number): DeribitMessage {
  if (!Array.isArray(d)) return invalid(`trades ${instrument}: data is not an array`);
  const trades: ParsedTrade[] = [];
  for (let i = 0; i < d.length; i++) {
    const t: unknown = d[i];
    const where = `trades ${instrument}[${i}]`;
    if (!isObject(t)) return invalid(`${where}: not an object`);
    if (!isInt(t.trade_seq)) return invalid(`${where}: trade_seq is not an integer`);
    const id = typeof t.trade_id === 'string' ? t.trade_id : isInt(t.trade_id) ? String(t.trade_id) : '';
    if (id === '') return invalid(`${where}: no trade_id`);
    if (!isInt(t.timestamp)) return invalid(`${where}: timestamp is not an integer`);
    if (!isNum(t.price) || t.price <= 0) return invalid(`${where}: price is not a positive number`);
    if (!isNum(t.amount) || t.amount < 0) return invalid(`${where}: amount is not a number >= 0`);
    if (t.direction !== 'buy' && t.direction !== 'sell')
      return invalid(`${where}: direction is not buy or sell`);
    if (t.liquidation !== undefined && typeof t.liquidation !== 'string') {
      return invalid(`${where}: liquidation is not a string`);
    }
    const record: TradeRecord = {
      venue: 'deribit',
      symbol: instrument,
      exchangeTs: t.timestamp,
      localTs,
      type: 'trade',
      id,
      price: t.price,
      size: t.amount,
      side: t.direction,
    };
    // "Present only for trades caused by liquidation"; whatever its value (M, T, MT), it is one.
    if (typeof t.liquidation === 'string' && t.liquidation !== '') record.liquidation = true;
    trades.push({ seq: t.trade_seq, record });
  }
  return { kind: 'trades', instrument, trades };
}

/** Optional numbers: absent or null is undefined; anything else must be finite. */
function optNum(d: Json, key: string): number | undefined | null {
  const v = d[key];
  if (v === undefined || v === null) return undefined;
  return isNum(v) ? v : null;
}

function parseTicker(instrument: string, d: unknown): DeribitMessage {
  if (!isObject(d)) return invalid(`ticker ${instrument}: data is not an object`);
  if (!isInt(d.timestamp)) return invalid(`ticker ${instrument}: timestamp is not an integer`);
  // An empty side comes as price 0 (or null) and amount 0.
  const side = (key: string): number | null => {
    const v = optNum(d, key);
    return v === undefined ? 0 : v === null || v < 0 ? null : v;
  };
  const bidPrice = side('best_bid_price');
  const bidSize = side('best_bid_amount');
  const askPrice = side('best_ask_price');
  const askSize = side('best_ask_amount');
  if (bidPrice === null || bidSize === null || askPrice === null || askSize === null) {
    return invalid(`ticker ${instrument}: best bid/ask prices and amounts must be numbers >= 0`);
  }
  if (!isNum(d.mark_price) || d.mark_price <= 0)
    return invalid(`ticker ${instrument}: mark_price is not a price`);
  const ticker: Ticker = {
    timestamp: d.timestamp,
    bidPrice,
    bidSize,
    askPrice,
    askSize,
    markPrice: d.mark_price,
  };
  for (const [key, field] of [
    ['index_price', 'indexPrice'],
    ['funding_8h', 'funding8h'],
    ['current_funding', 'currentFunding'],
    ['open_interest', 'openInterest'],
  ] as const) {
    const v = optNum(d, key);
    if (v === null) return invalid(`ticker ${instrument}: ${key} is not a number`);
    if (v !== undefined) ticker[field] = v;
  }
  return { kind: 'ticker', instrument, ticker };
}

function parseDvol(index: string, d: unknown): DeribitMessage {
  if (!isObject(d)) return invalid(`deribit_volatility_index.${index}: data is not an object`);
  if (!isNum(d.volatility) || d.volatility < 0) return invalid(`${index}: volatility is not a number >= 0`);
  if (!isInt(d.timestamp)) return invalid(`${index}: timestamp is not an integer`);
  const currency = dvolCurrencyOf(index);
  if (currency === undefined) return invalid(`${index}: not a volatility index name like btc_usd`);
  return { kind: 'dvol', currency, volatility: d.volatility, timestamp: d.timestamp };
}

/** `btc_usd` → BTC. */
export function dvolCurrencyOf(index: string): string | undefined {
  const m = /^([a-z0-9]+)_[a-z]+$/.exec(index);
  return m ? m[1]!.toUpperCase() : undefined;
}

/** The currency of an instrument: BTC-PERPETUAL → BTC, SOL_USDC-PERPETUAL → SOL. */
export function currencyOf(instrument: string): string {
  return instrument.split(/[-_]/)[0]!;
}

/** A live DVOL value as a record: all four prices are the value. */
export function dvolRecord(
  currency: string,
  volatility: number,
  timestamp: number,
  localTs: number,
): VolatilityIndexRecord {
  return {
    type: 'dvol',
    venue: 'deribit',
    symbol: currency,
    exchangeTs: timestamp,
    localTs,
    resolutionSec: 0,
    open: volatility,
    high: volatility,
    low: volatility,
    close: volatility,
  };
}

export interface VolatilityPage {
  /** Bars as sent (Deribit sends them oldest first). */
  bars: VolatilityIndexRecord[];
  /** The `end_timestamp` of the next (older) page; null when there is none. */
  continuation: number | null;
}

/** The result of `public/get_volatility_index_data` → bar records of `resolutionSec`. */
export function parseVolatilityPage(
  result: unknown,
  currency: string,
  resolutionSec: number,
  localTs: number,
): ParseResult<VolatilityPage> {
  if (!isObject(result)) return { ok: false, error: 'volatility index data: result is not an object' };
  const { data, continuation } = result;
  if (!Array.isArray(data)) return { ok: false, error: 'volatility index data: data is not an array' };
  if (continuation !== null && continuation !== undefined && !isInt(continuation)) {
    return { ok: false, error: 'volatility index data: continuation is neither a timestamp nor null' };
  }
  const bars: VolatilityIndexRecord[] = [];
  for (let i = 0; i < data.length; i++) {
    const row: unknown = data[i];
    if (!Array.isArray(row) || row.length < 5)
      return { ok: false, error: `data[${i}] is not [ts, o, h, l, c]` };
    const [ts, open, high, low, close] = row as unknown[];
    if (!isInt(ts)) return { ok: false, error: `data[${i}]: timestamp is not an integer` };
    if (!isNum(open) || !isNum(high) || !isNum(low) || !isNum(close)) {
      return { ok: false, error: `data[${i}]: open, high, low and close must be numbers` };
    }
    bars.push({
      type: 'dvol',
      venue: 'deribit',
      symbol: currency,
      exchangeTs: ts,
      localTs,
      resolutionSec,
      open,
      high,
      low,
      close,
    });
  }
  return { ok: true, value: { bars, continuation: isInt(continuation) ? continuation : null } };
}
