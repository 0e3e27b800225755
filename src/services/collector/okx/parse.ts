/**
 * OKX v5 payload parsers (reference/exchanges.md B3): WebSocket frames of the public channels and the
 * REST bodies the collector reads. Pure and total: a bad frame becomes `{ kind: 'invalid', reason }`,
 * never an exception, so one malformed message never takes a collector down.
 *
 * Book and trade sizes stay the strings OKX sent: the checksum needs them verbatim, and swap sizes are
 * contracts that the collector converts to base units exactly (contracts.ts).
 */
import type { LongShortRecord } from '../../../shared/market';

/** A book level: the price as a number (for ordering) and both original strings. */
export interface OkxLevel {
  price: number;
  px: string;
  sz: string;
}

export interface BooksMessage {
  kind: 'books';
  instId: string;
  action: 'snapshot' | 'update';
  bids: OkxLevel[];
  asks: OkxLevel[];
  ts: number;
  /** 0: not sent (OKX since June 2026), so not checked. */
  checksum: number;
  /** -1 on a snapshot. */
  prevSeqId: number;
  seqId: number;
}

export interface BboMessage {
  kind: 'bbo';
  instId: string;
  bid: OkxLevel | undefined;
  ask: OkxLevel | undefined;
  ts: number;
  seqId: number;
}

export interface OkxTrade {
  instId: string;
  /** The last trade id of the aggregation. */
  tradeId: number;
  price: number;
  /** Contracts on swaps, base currency on spot. */
  sz: string;
  /** The taker's side. */
  side: 'buy' | 'sell';
  ts: number;
  /** Fills aggregated in this message: its first trade id is `tradeId - count + 1`. */
  count: number;
}

export interface OkxFunding {
  kind: 'funding';
  instId: string;
  rate: number;
  /** The upcoming settlement. */
  fundingTime: number;
  /** The settlement after it. */
  nextFundingTime: number;
  ts: number;
}

export interface OkxOpenInterest {
  kind: 'open-interest';
  instId: string;
  /** Contracts, as sent. */
  oi: string;
  /** In coin, when sent. */
  oiCcy: number | undefined;
  ts: number;
}

export interface OkxLiquidation {
  instId: string;
  /** The side of the liquidation order (a sell closes a long). */
  side: 'buy' | 'sell';
  /** Bankruptcy price. */
  price: number;
  /** Contracts, as sent. */
  sz: string;
  ts: number;
}

export interface OkxArg {
  channel: string;
  instId?: string;
  instType?: string;
}

export type OkxMessage =
  | BooksMessage
  | BboMessage
  | { kind: 'trades'; trades: OkxTrade[] }
  | OkxFunding
  | OkxOpenInterest
  | { kind: 'liquidations'; items: OkxLiquidation[] }
  | { kind: 'ack'; op: 'subscribe' | 'unsubscribe'; id: string | undefined; arg: OkxArg }
  | { kind: 'error'; id: string | undefined; code: string; msg: string }
  | { kind: 'notice'; code: string; msg: string }
  | { kind: 'pong' }
  /** Any other event (login, channel-conn-count...): nothing to do. */
  | { kind: 'control'; event: string }
  | { kind: 'invalid'; reason: string };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

type Json = Record<string, unknown>;

/** A non-negative decimal string (sizes must be exact to be converted from contracts). */
const DECIMAL = /^\d+(?:\.\d+)?$/;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** A decimal string (or a JSON number) as a number; NaN for anything else, '' and null included. */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return +v;
  return NaN;
}

/** An epoch-ms string such as "1767225600100" (or a number). */
function time(v: unknown): number {
  const t = num(v);
  return Number.isSafeInteger(t) && t >= 0 ? t : NaN;
}

function invalid(reason: string): OkxMessage {
  return { kind: 'invalid', reason };
}

/** The unique key of a subscription argument: `books|BTC-USDT`, `liquidation-orders|SWAP`. */
export function argKey(arg: OkxArg): string {
  return `${arg.channel}|${arg.instId ?? arg.instType ?? ''}`;
}

/** `[["95000.1","12","0","3"],…]` → levels; an error text when any level is not a price and a size. */
function levels(v: unknown, name: string): OkxLevel[] | string {
  if (!Array.isArray(v)) return `${name} is not an array`;
  const out: OkxLevel[] = new Array<OkxLevel>(v.length);
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (!Array.isArray(l) || l.length < 2) return `${name}[${i}] is not a [price, size, …] level`;
    const px: unknown = l[0];
    const sz: unknown = l[1];
    if (typeof px !== 'string' || typeof sz !== 'string')
      return `${name}[${i}] price and size must be strings`;
    const price = +px;
    if (!(price > 0) || price === Infinity) return `${name}[${i}] price ${JSON.stringify(px)} is not a price`;
    if (!DECIMAL.test(sz)) return `${name}[${i}] size ${JSON.stringify(sz)} is not a decimal >= 0`;
    out[i] = { price, px, sz };
  }
  return out;
}

/** Parses one WebSocket text frame of `/ws/v5/public`. */
export function parseMessage(text: string): OkxMessage {
  if (text === 'pong') return { kind: 'pong' };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return invalid('invalid JSON');
  }
  if (!isObject(msg)) return invalid('not a JSON object');
  if (typeof msg.event === 'string') return parseEvent(msg);
  const arg = msg.arg;
  if (!isObject(arg) || typeof arg.channel !== 'string') return invalid('no arg.channel and no event');
  const data = msg.data;
  if (!Array.isArray(data) || data.length === 0)
    return invalid(`${arg.channel}: data is not a non-empty array`);
  switch (arg.channel) {
    case 'books':
      return parseBooks(arg, msg.action, data[0]);
    case 'bbo-tbt':
      return parseBbo(arg, data[0]);
    case 'trades':
      return parseTrades(data);
    case 'funding-rate':
      return parseFunding(data[0]);
    case 'open-interest':
      return parseOpenInterestPush(data[0]);
    case 'liquidation-orders':
      return parseLiquidations(data);
    default:
      return invalid(`unknown channel ${JSON.stringify(arg.channel)}`);
  }
}

function parseEvent(msg: Json): OkxMessage {
  const event = msg.event as string;
  const id = typeof msg.id === 'string' ? msg.id : undefined;
  switch (event) {
    case 'subscribe':
    case 'unsubscribe': {
      const arg = msg.arg;
      if (!isObject(arg) || typeof arg.channel !== 'string')
        return invalid(`${event} ack without arg.channel`);
      const out: OkxArg = { channel: arg.channel };
      if (typeof arg.instId === 'string') out.instId = arg.instId;
      if (typeof arg.instType === 'string') out.instType = arg.instType;
      return { kind: 'ack', op: event, id, arg: out };
    }
    case 'error':
      return {
        kind: 'error',
        id,
        code: String(msg.code ?? ''),
        msg: typeof msg.msg === 'string' ? msg.msg : '',
      };
    case 'notice':
      return {
        kind: 'notice',
        code: String(msg.code ?? ''),
        msg: typeof msg.msg === 'string' ? msg.msg : '',
      };
    default:
      return { kind: 'control', event };
  }
}

function parseBooks(arg: Json, action: unknown, d: unknown): OkxMessage {
  const instId = arg.instId;
  if (typeof instId !== 'string' || instId === '') return invalid('books: missing arg.instId');
  if (action !== 'snapshot' && action !== 'update')
    return invalid(`books ${instId}: action is not snapshot or update`);
  if (!isObject(d)) return invalid(`books ${instId}: data[0] is not an object`);
  const { prevSeqId, seqId, checksum } = d;
  if (!isInt(seqId) || !isInt(prevSeqId))
    return invalid(`books ${instId}: seqId and prevSeqId must be integers`);
  // Absent counts as not sent; anything else must be the 32-bit integer OKX documents.
  if (checksum !== undefined && !isInt(checksum))
    return invalid(`books ${instId}: checksum is not an integer`);
  const ts = time(d.ts);
  if (Number.isNaN(ts)) return invalid(`books ${instId}: ts is not an epoch ms`);
  const bids = levels(d.bids, 'bids');
  if (typeof bids === 'string') return invalid(`books ${instId}: ${bids}`);
  const asks = levels(d.asks, 'asks');
  if (typeof asks === 'string') return invalid(`books ${instId}: ${asks}`);
  return {
    kind: 'books',
    instId,
    action,
    bids,
    asks,
    ts,
    checksum: (checksum as number | undefined) ?? 0,
    prevSeqId,
    seqId,
  };
}

function parseBbo(arg: Json, d: unknown): OkxMessage {
  const instId = arg.instId;
  if (typeof instId !== 'string' || instId === '') return invalid('bbo-tbt: missing arg.instId');
  if (!isObject(d)) return invalid(`bbo-tbt ${instId}: data[0] is not an object`);
  const bids = levels(d.bids, 'bids');
  if (typeof bids === 'string') return invalid(`bbo-tbt ${instId}: ${bids}`);
  const asks = levels(d.asks, 'asks');
  if (typeof asks === 'string') return invalid(`bbo-tbt ${instId}: ${asks}`);
  const ts = time(d.ts);
  if (Number.isNaN(ts)) return invalid(`bbo-tbt ${instId}: ts is not an epoch ms`);
  const seqId = isInt(d.seqId) ? d.seqId : -1;
  return { kind: 'bbo', instId, bid: bids[0], ask: asks[0], ts, seqId };
}

function parseTrades(data: unknown[]): OkxMessage {
  const trades: OkxTrade[] = [];
  for (let i = 0; i < data.length; i++) {
    const d = data[i];
    if (!isObject(d)) return invalid(`trades: data[${i}] is not an object`);
    const instId = d.instId;
    if (typeof instId !== 'string' || instId === '') return invalid(`trades: data[${i}] has no instId`);
    const tradeId = num(d.tradeId);
    if (!Number.isSafeInteger(tradeId) || tradeId < 0)
      return invalid(`trades ${instId}: tradeId is not an integer id`);
    const price = num(d.px);
    if (!(price > 0) || price === Infinity) return invalid(`trades ${instId}: px is not a price`);
    if (typeof d.sz !== 'string' || !DECIMAL.test(d.sz))
      return invalid(`trades ${instId}: sz is not a decimal >= 0`);
    if (d.side !== 'buy' && d.side !== 'sell') return invalid(`trades ${instId}: side is not buy or sell`);
    const ts = time(d.ts);
    if (Number.isNaN(ts)) return invalid(`trades ${instId}: ts is not an epoch ms`);
    // `count` is documented on /public trades; a message without it is one fill.
    const count = d.count === undefined ? 1 : num(d.count);
    if (!Number.isSafeInteger(count) || count < 1)
      return invalid(`trades ${instId}: count is not an integer >= 1`);
    trades.push({ instId, tradeId, price, sz: d.sz, side: d.side, ts, count });
  }
  return { kind: 'trades', trades };
}

function parseFunding(d: unknown): OkxMessage {
  if (!isObject(d)) return invalid('funding-rate: data[0] is not an object');
  const instId = d.instId;
  if (typeof instId !== 'string' || instId === '') return invalid('funding-rate: missing instId');
  const rate = num(d.fundingRate);
  if (!Number.isFinite(rate)) return invalid(`funding-rate ${instId}: fundingRate is not a number`);
  const fundingTime = time(d.fundingTime);
  const nextFundingTime = time(d.nextFundingTime);
  if (!(fundingTime > 0)) return invalid(`funding-rate ${instId}: fundingTime is not an epoch ms`);
  if (!(nextFundingTime > fundingTime)) {
    return invalid(`funding-rate ${instId}: nextFundingTime is not after fundingTime`);
  }
  const ts = time(d.ts);
  if (Number.isNaN(ts)) return invalid(`funding-rate ${instId}: ts is not an epoch ms`);
  return { kind: 'funding', instId, rate, fundingTime, nextFundingTime, ts };
}

/** One open-interest row (the WS push and the REST endpoint share it). */
function openInterestRow(d: unknown): OkxOpenInterest | string {
  if (!isObject(d)) return 'not an object';
  const instId = d.instId;
  if (typeof instId !== 'string' || instId === '') return 'missing instId';
  if (typeof d.oi !== 'string' || !DECIMAL.test(d.oi)) return `${instId}: oi is not a decimal >= 0`;
  let oiCcy: number | undefined;
  if (d.oiCcy !== undefined && d.oiCcy !== '') {
    oiCcy = num(d.oiCcy);
    if (!(oiCcy >= 0) || oiCcy === Infinity) return `${instId}: oiCcy is not a number >= 0`;
  }
  const ts = time(d.ts);
  if (Number.isNaN(ts)) return `${instId}: ts is not an epoch ms`;
  return { kind: 'open-interest', instId, oi: d.oi, oiCcy, ts };
}

function parseOpenInterestPush(d: unknown): OkxMessage {
  const row = openInterestRow(d);
  return typeof row === 'string' ? invalid(`open-interest: ${row}`) : row;
}

function parseLiquidations(data: unknown[]): OkxMessage {
  const items: OkxLiquidation[] = [];
  for (let i = 0; i < data.length; i++) {
    const d = data[i];
    if (!isObject(d)) return invalid(`liquidation-orders: data[${i}] is not an object`);
    const instId = d.instId;
    if (typeof instId !== 'string' || instId === '')
      return invalid(`liquidation-orders: data[${i}] has no instId`);
    if (!Array.isArray(d.details)) return invalid(`liquidation-orders ${instId}: details is not an array`);
    for (const [j, x] of d.details.entries()) {
      const where = `liquidation-orders ${instId}: details[${j}]`;
      if (!isObject(x)) return invalid(`${where} is not an object`);
      if (x.side !== 'buy' && x.side !== 'sell') return invalid(`${where}: side is not buy or sell`);
      const price = num(x.bkPx);
      if (!(price > 0) || price === Infinity) return invalid(`${where}: bkPx is not a price`);
      if (typeof x.sz !== 'string' || !DECIMAL.test(x.sz))
        return invalid(`${where}: sz is not a decimal >= 0`);
      const ts = time(x.ts);
      if (Number.isNaN(ts)) return invalid(`${where}: ts is not an epoch ms`);
      items.push({ instId, side: x.side, price, sz: x.sz, ts });
    }
  }
  return { kind: 'liquidations', items };
}

// ---- REST --------------------------------------------------------------------------------------

/** The `data` of an OKX REST body `{"code":"0","msg":"","data":[…]}`, or the error it carries. */
export function restData(json: unknown): ParseResult<unknown[]> {
  if (!isObject(json)) return { ok: false, error: 'the body is not a JSON object' };
  if (json.code !== '0' && json.code !== 0) {
    const msg = typeof json.msg === 'string' ? json.msg : '';
    return { ok: false, error: `OKX error ${String(json.code)}: ${msg}` };
  }
  if (!Array.isArray(json.data)) return { ok: false, error: 'data is not an array' };
  return { ok: true, value: json.data };
}

/** `GET /api/v5/public/instruments` → ctVal (string) by instId; spot rows (ctVal "") are left out. */
export function parseInstruments(json: unknown): ParseResult<Map<string, string>> {
  const data = restData(json);
  if (!data.ok) return data;
  const out = new Map<string, string>();
  for (let i = 0; i < data.value.length; i++) {
    const row = data.value[i];
    if (!isObject(row) || typeof row.instId !== 'string')
      return { ok: false, error: `instruments: row ${i} has no instId` };
    if (typeof row.ctVal === 'string' && row.ctVal !== '') out.set(row.instId, row.ctVal);
  }
  return { ok: true, value: out };
}

/**
 * `GET /api/v5/rubik/stat/contracts/long-short-account-ratio-contract` → records, oldest first (OKX
 * sends `[ts, ratio]` rows newest first). The account shares follow from the ratio r: r/(1+r), 1/(1+r).
 */
export function parseLongShortRatio(
  json: unknown,
  instId: string,
  period: string,
  localTs: number,
): ParseResult<LongShortRecord[]> {
  const data = restData(json);
  if (!data.ok) return data;
  const out: LongShortRecord[] = [];
  for (let i = 0; i < data.value.length; i++) {
    const row = data.value[i];
    if (!Array.isArray(row) || row.length < 2)
      return { ok: false, error: `long/short ratio: row ${i} is not [ts, ratio]` };
    const ts = time(row[0]);
    const ratio = num(row[1]);
    if (Number.isNaN(ts)) return { ok: false, error: `long/short ratio: row ${i} has a bad ts` };
    if (!(ratio >= 0) || ratio === Infinity)
      return { ok: false, error: `long/short ratio: row ${i} has a bad ratio` };
    out.push({
      venue: 'okx-swap',
      symbol: instId,
      exchangeTs: ts,
      localTs,
      type: 'lsr',
      period,
      ratio,
      longAccount: ratio / (1 + ratio),
      shortAccount: 1 / (1 + ratio),
    });
  }
  return { ok: true, value: out.sort((a, b) => a.exchangeTs - b.exchangeTs) };
}
