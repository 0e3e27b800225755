/**
 * Normalized market data: what collectors publish on the bus (`md.<venue>.<symbol>.<type>`), record
 * in `market/<venue>.db`, and what the optimizer, the trader and the UI read. Every record carries the
 * exchange's own time and the local receive time, so latency and clock drift stay visible.
 */

export const venues = ['binance-spot', 'binance-usdm', 'okx-spot', 'okx-swap', 'deribit'] as const;
export type Venue = (typeof venues)[number];

/** The data types a collector can be asked for (the last token of a market-data subject). */
export const marketDataTypes = [
  'trade',
  'book',
  'top',
  'funding',
  'oi',
  'liquidation',
  'lsr',
  'dvol',
] as const;
export type MarketDataType = (typeof marketDataTypes)[number];

/**
 * Price and size, as numbers parsed from the exchange's decimal strings. Sizes are in base currency
 * (OKX swap contracts are multiplied by the contract value), except Deribit perpetuals and futures,
 * whose amounts are USD as the exchange sends them.
 */
export type Level = [price: number, size: number];

interface RecordBase {
  venue: Venue;
  /** The exchange's own symbol spelling, upper case (BTCUSDT, BTC-USDT-SWAP, BTC-PERPETUAL). */
  symbol: string;
  /** Exchange event time, epoch ms. */
  exchangeTs: number;
  /** When this process received it, epoch ms. */
  localTs: number;
}

export interface TradeRecord extends RecordBase {
  type: 'trade';
  id: string;
  price: number;
  size: number;
  /** The taker's side. */
  side: 'buy' | 'sell';
  /** Deribit flags the trades caused by a liquidation. */
  liquidation?: true;
}

/** A book snapshot (the whole book after a (re)sync) or a delta (levels that changed; size 0 removes). */
export interface BookRecord extends RecordBase {
  type: 'book';
  kind: 'snapshot' | 'delta';
  /** The exchange's update id after this record (Binance `u`, OKX `seqId`, Deribit `change_id`). */
  seq: number;
  bids: Level[];
  asks: Level[];
}

export interface TopOfBookRecord extends RecordBase {
  type: 'top';
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
}

export interface FundingRecord extends RecordBase {
  type: 'funding';
  rate: number;
  /** Epoch ms of the next funding. */
  nextFundingTime: number;
  /** The funding interval when the exchange says it (OKX: next minus current funding time). */
  intervalMs?: number;
  markPrice?: number;
  indexPrice?: number;
}

export interface OpenInterestRecord extends RecordBase {
  type: 'oi';
  /**
   * In base currency for Binance USD-M and OKX (its `oiCcy`); in USD for Deribit perpetuals, whose
   * contracts are USD amounts.
   */
  openInterest: number;
}

/**
 * Binance and OKX sample liquidations (Binance: the latest per symbol per second; OKX: "doesn't
 * represent the total"), so theirs are `partial`. Deribit's come from its complete trade tape.
 */
export interface LiquidationRecord extends RecordBase {
  type: 'liquidation';
  /** The side of the liquidation order (SELL liquidates a long). */
  side: 'buy' | 'sell';
  price: number;
  size: number;
  partial: boolean;
}

export interface LongShortRecord extends RecordBase {
  type: 'lsr';
  /** The statistics period, e.g. `5m`. */
  period: string;
  ratio: number;
  longAccount: number;
  shortAccount: number;
}

/**
 * A volatility index (Deribit DVOL): live values (`resolutionSec` 0, open = high = low = close) and
 * back-filled history bars. `symbol` is the currency: BTC, ETH.
 */
export interface VolatilityIndexRecord extends RecordBase {
  type: 'dvol';
  resolutionSec: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export type MarketRecord =
  | TradeRecord
  | BookRecord
  | TopOfBookRecord
  | FundingRecord
  | OpenInterestRecord
  | LiquidationRecord
  | LongShortRecord
  | VolatilityIndexRecord;

/** Why data is missing. Every gap and every disconnect is written down (the gap ledger). */
export const gapCauses = [
  'sequence', // an update id did not chain: the book was discarded and resynced
  'crossed', // best bid >= best ask: treated as corruption, resynced
  'disconnect', // the connection closed or errored
  'stale', // no message within the watchdog window: the socket was presumed dead
  'server-shutdown', // the exchange announced a shutdown or maintenance (OKX notice 64008)
  'rotation', // planned reconnect before the 24 h limit (normally without loss)
  'rate-limit', // HTTP 429/418: requests paused
  'trade-id', // trade ids skipped numbers
  'snapshot', // the REST snapshot could not be fetched or did not fit the buffered events
  'checksum', // the book's checksum did not match the exchange's (OKX, when it sends one)
] as const;
export type GapCause = (typeof gapCauses)[number];

export interface GapRecord {
  venue: Venue;
  /** Null when the gap covers the whole connection (every symbol on it). */
  symbol: string | null;
  /** The stream concerned (`book`, `trade`, a connection name...). */
  stream: string;
  /** Epoch ms: last good data before the gap. */
  start: number;
  /** Epoch ms: first good data after it; null while still open. */
  end: number | null;
  cause: GapCause;
  detail: string;
}

/** `md.<venue>.<symbol>.<type>`: a symbol may not contain the subject separator. */
export function marketSubject(venue: Venue, symbol: string, type: MarketDataType | 'gap'): string {
  return `md.${venue}.${symbol}.${type}`;
}
