/**
 * The synthetic market of one symbol on one venue: a random-walk fair price on a tick grid, a book of a
 * few hundred levels per side that makers keep changing, takers that trade at the best price (their
 * fills shrink the levels they hit, and that is part of the depth diff), and for USD-M funding, open
 * interest, the long/short account ratio and the occasional liquidation.
 *
 * Prices are kept as integer ticks and sizes as integer lots, so the decimal strings on the wire are
 * exact and a collector that parses them gets the very numbers that `trueBook()` returns.
 *
 * A scripted price path (`setPath`) replaces the random walk: the top of the book sits one tick either
 * side of the scripted price (so the mid is the scripted price), takers trade only at that top, and a
 * move to the next price is a gap, as on news: makers pull the quotes the new price crosses and requote
 * around it, and a taker prints at the new best price in the direction of the move. Every change still
 * goes through the same update ids, depth diffs, bookTicker and trade ids as the random market.
 *
 * Update ids follow Binance: every level change advances the book's update id; each depth stream
 * (one per speed) accumulates the changes since its last event and emits them as one diff with
 * `U` = first id, `u` = last id. Spot ids are contiguous (next `U` = previous `u` + 1); USD-M ids jump
 * between steps and events chain through `pu` instead.
 */
import type { Level, Venue } from '../../shared/market';
import { pathPositionAt, type PathPosition, type PricePath } from './price-path';
import { Random, hash32 } from './random';

export const simVenues = [
  'binance-spot',
  'binance-usdm',
  'okx-spot',
  'okx-swap',
  'deribit',
] as const satisfies readonly Venue[];
export type SimVenue = (typeof simVenues)[number];

/**
 * What a size on the wire counts: base currency, contracts of `contractValue` base units (OKX swaps),
 * or USD (Deribit's inverse perpetuals).
 */
export type SizeUnit = 'base' | 'contracts' | 'usd';

export interface SymbolSpec {
  /** The venue's instrument name (BTCUSDT, BTC-USDT, BTC-USDT-SWAP, BTC-PERPETUAL). */
  symbol: string;
  /** The simulator's own name for the market, shared by every venue (BTCUSDT). */
  base: string;
  /** Funding, open interest and liquidations. */
  derivative: boolean;
  sizeUnit: SizeUnit;
  /** Base units per contract (1 unless sizeUnit is contracts). */
  contractValue: number;
  baseAsset: string;
  quoteAsset: string;
  /** Starting price. */
  price: number;
  /** Decimals of prices on the wire; the tick is one unit of the last decimal. */
  priceDecimals: number;
  /** Decimals of sizes on the wire; the lot is one unit of the last decimal. */
  sizeDecimals: number;
  /** Typical notional of one book level, in quote currency. */
  levelNotional: number;
  /** Widest spacing between neighbouring levels, in ticks. */
  maxGapTicks: number;
  /** Open interest at start, in base units. */
  openInterest: number;
}

type Grid = [priceDecimals: number, sizeDecimals: number, maxGapTicks: number];

interface KnownSymbol {
  base: string;
  price: number;
  spot: Grid;
  usdm: Grid;
  okxSpot: Grid;
  /** Sizes in contracts of `ctVal` base units. */
  okxSwap: [...Grid, ctVal: number];
  /** BTC and ETH: inverse perpetuals in USD; the others linear USDC perpetuals in base units. */
  deribit: Grid;
  levelNotional: number;
  openInterest: number;
}

// Ticks and lots close to the real ones, so the strings look like Binance's.
const known: Record<string, KnownSymbol> = {
  BTCUSDT: {
    base: 'BTC',
    price: 95_000,
    spot: [2, 5, 40],
    usdm: [1, 3, 8],
    okxSpot: [1, 8, 8],
    okxSwap: [1, 2, 8, 0.01],
    deribit: [1, 0, 8],
    levelNotional: 40_000,
    openInterest: 80_000,
  },
  ETHUSDT: {
    base: 'ETH',
    price: 3_500,
    spot: [2, 4, 6],
    usdm: [2, 3, 6],
    okxSpot: [2, 6, 6],
    okxSwap: [2, 2, 6, 0.1],
    deribit: [2, 0, 6],
    levelNotional: 25_000,
    openInterest: 2_000_000,
  },
  SOLUSDT: {
    base: 'SOL',
    price: 200,
    spot: [2, 3, 3],
    usdm: [2, 0, 3],
    okxSpot: [2, 4, 3],
    okxSwap: [2, 2, 3, 1],
    deribit: [2, 1, 3],
    levelNotional: 10_000,
    openInterest: 9_000_000,
  },
  BNBUSDT: {
    base: 'BNB',
    price: 700,
    spot: [2, 3, 4],
    usdm: [2, 2, 4],
    okxSpot: [2, 4, 4],
    okxSwap: [2, 2, 4, 0.01],
    deribit: [2, 2, 4],
    levelNotional: 10_000,
    openInterest: 700_000,
  },
  XRPUSDT: {
    base: 'XRP',
    price: 2.5,
    spot: [4, 1, 3],
    usdm: [4, 1, 3],
    okxSpot: [4, 2, 3],
    okxSwap: [4, 2, 3, 100],
    deribit: [4, 0, 3],
    levelNotional: 8_000,
    openInterest: 300_000_000,
  },
};

/** The quote currency of a simulator symbol (BTCUSDT → USDT). */
function quoteOf(symbol: string): string {
  return symbol.endsWith('USDC') ? 'USDC' : 'USDT';
}

/** The base currency of a simulator symbol (BTCUSDT → BTC). */
export function baseAssetOf(symbol: string): string {
  const k = known[symbol];
  if (k) return k.base;
  const quote = quoteOf(symbol);
  return symbol.endsWith(quote) ? symbol.slice(0, -quote.length) || symbol : symbol;
}

/** Deribit lists inverse perpetuals for BTC and ETH only; other coins are linear USDC perpetuals. */
function inverseOnDeribit(base: string): boolean {
  return base === 'BTC' || base === 'ETH';
}

/** The venue's name for a simulator symbol: BTCUSDT → BTC-USDT, BTC-USDT-SWAP, BTC-PERPETUAL. */
export function instrumentName(venue: SimVenue, symbol: string): string {
  const base = baseAssetOf(symbol);
  const quote = quoteOf(symbol);
  switch (venue) {
    case 'binance-spot':
    case 'binance-usdm':
      return symbol;
    case 'okx-spot':
      return `${base}-${quote}`;
    case 'okx-swap':
      return `${base}-${quote}-SWAP`;
    case 'deribit':
      return inverseOnDeribit(base) ? `${base}-PERPETUAL` : `${base}_USDC-PERPETUAL`;
  }
}

/** The instrument's parameters: known symbols get realistic ones, any other a plausible made-up set. */
export function specFor(venue: SimVenue, symbol: string): SymbolSpec {
  const quoteAsset = quoteOf(symbol);
  const baseAsset = baseAssetOf(symbol);
  const k = known[symbol];
  // Unknown symbols get a price from their name, so the same name always looks the same.
  const price = k ? k.price : 1 + (hash32(symbol) % 50_000) / 100;
  const madeUp: Grid = [
    Math.min(8, Math.max(0, Math.ceil(-Math.log10(price * 1e-5)))),
    Math.min(8, Math.max(0, Math.round(Math.log10(price)))),
    4,
  ];
  let grid: Grid = madeUp;
  let sizeUnit: SizeUnit = 'base';
  let contractValue = 1;
  switch (venue) {
    case 'binance-spot':
      grid = k ? k.spot : madeUp;
      break;
    case 'binance-usdm':
      grid = k ? k.usdm : madeUp;
      break;
    case 'okx-spot':
      grid = k ? k.okxSpot : madeUp;
      break;
    case 'okx-swap': {
      const [p, sz, gap, ctVal] = k ? k.okxSwap : [madeUp[0], 0, madeUp[2], 1];
      grid = [p, sz, gap];
      sizeUnit = 'contracts';
      contractValue = ctVal;
      break;
    }
    case 'deribit':
      grid = k ? k.deribit : madeUp;
      if (inverseOnDeribit(baseAsset)) sizeUnit = 'usd';
      break;
  }
  const [priceDecimals, sizeDecimals, maxGapTicks] = grid;
  return {
    symbol: instrumentName(venue, symbol),
    base: symbol,
    derivative: venue !== 'binance-spot' && venue !== 'okx-spot',
    sizeUnit,
    contractValue,
    baseAsset,
    quoteAsset,
    price,
    priceDecimals,
    sizeDecimals,
    levelNotional: k ? k.levelNotional : 10_000,
    maxGapTicks,
    openInterest: k ? k.openInterest : Math.round(5e8 / price),
  };
}

/** An integer count of the last decimal as a fixed-decimal string: (123456, 3) → "123.456". */
export function formatFixed(units: number, decimals: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(Math.round(units)));
  if (decimals === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(decimals + 1, '0');
  const text = `${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
  return negative ? `-${text}` : text;
}

/** One side of a book: prices in ticks kept sorted ascending, sizes in lots. */
class BookSide {
  readonly prices: number[] = [];
  readonly sizes = new Map<number, number>();

  constructor(readonly bid: boolean) {}

  get count(): number {
    return this.prices.length;
  }

  /** The price at a rank from the top (0 = best). */
  at(rank: number): number | undefined {
    return this.bid ? this.prices[this.prices.length - 1 - rank] : this.prices[rank];
  }

  best(): number | undefined {
    return this.at(0);
  }

  worst(): number | undefined {
    return this.at(this.prices.length - 1);
  }

  set(price: number, lots: number): void {
    const had = this.sizes.has(price);
    if (lots <= 0) {
      if (!had) return;
      this.sizes.delete(price);
      this.prices.splice(this.search(price), 1);
      return;
    }
    this.sizes.set(price, lots);
    if (!had) this.prices.splice(this.search(price), 0, price);
  }

  /** Best first, at most `limit` levels. */
  ordered(limit = Infinity): [price: number, lots: number][] {
    const n = Math.min(limit, this.prices.length);
    const out: [number, number][] = [];
    for (let rank = 0; rank < n; rank++) {
      const price = this.at(rank)!;
      out.push([price, this.sizes.get(price)!]);
    }
    return out;
  }

  /** Index of `price` in the sorted array, or where it would be inserted. */
  private search(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.prices[mid]! < price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The changes one depth stream has not emitted yet. */
class PendingDiff {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  firstId = 0;
  lastId = 0;
  lastTime = 0;
  /** `u` of the previous event, including an event that a gap fault swallowed. */
  prevLastId: number;
  gapPending = false;
  crossedPending = false;

  constructor(startId: number) {
    this.prevLastId = startId;
  }

  get empty(): boolean {
    return this.firstId === 0;
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
    this.firstId = 0;
  }
}

export type WireLevel = [price: string, size: string];

export interface DepthDiff {
  /** First update id in the event. */
  U: number;
  /** Last update id in the event. */
  u: number;
  /** Last update id of the previous event (USD-M sends it as `pu`). */
  pu: number;
  /** Time of the last change in the event (USD-M's transaction time `T`). */
  T: number;
  b: WireLevel[];
  a: WireLevel[];
}

export interface SimTrade {
  id: number;
  price: number;
  size: number;
  side: 'buy' | 'sell';
  time: number;
}

/** The fills of one taker order at one price: one aggTrade, one trade per maker order hit. */
export interface AggregateFill {
  aggId: number;
  firstTradeId: number;
  lastTradeId: number;
  side: 'buy' | 'sell';
  price: string;
  size: string;
  time: number;
  /** The individual trades, in id order. */
  trades: { id: number; size: string }[];
}

export interface Liquidation {
  /** SELL liquidates a long. */
  side: 'SELL' | 'BUY';
  /** Bankruptcy (order) price. */
  price: string;
  averagePrice: string;
  quantity: string;
  time: number;
}

export interface MarketListener {
  onFill?(fill: AggregateFill): void;
  /** The best bid or ask changed (price or size). */
  onTop?(): void;
  onLiquidation?(liquidation: Liquidation): void;
}

export interface MarketOptions {
  venue: SimVenue;
  /** The simulator's name (BTCUSDT); the market takes the venue's instrument name from it. */
  symbol: string;
  seed: number;
  stepMs: number;
  /** Trades kept for `trades()`. */
  tradesKept?: number;
  now?: number;
}

const EIGHT_HOURS = 8 * 3_600_000;
/** Relative volatility of the fair price per √second. */
const VOLATILITY = 1e-5;
const MIN_LEVELS = 150;
const MAX_LEVELS = 300;
const TAKER_ORDERS_PER_SEC = 6;
const LIQUIDATIONS_PER_SEC = 1;

export class SymbolMarket {
  readonly venue: SimVenue;
  readonly symbol: string;
  readonly spec: SymbolSpec;
  listener: MarketListener = {};

  private readonly rng: Random;
  private readonly stepMs: number;
  private readonly tradesKept: number;
  private readonly bids = new BookSide(true);
  private readonly asks = new BookSide(false);
  private readonly diffs = new Map<string, PendingDiff>();
  private readonly tradeLog: SimTrade[] = [];
  private readonly tick: number;
  private readonly lot: number;
  private readonly startTicks: number;
  private fair: number;
  private updateId: number;
  private lastChangeTime: number;
  private jumpBeforeNextChange = false;
  private nextTradeId: number;
  private nextAggId: number;
  private fundingRate = 0.0001;
  private openInterestLots: number;
  private basis = 0;
  private lastTop = '';
  private script: { path: PricePath; startedAt: number } | null = null;
  /** The scripted price the book shows now, in ticks (null until the first scripted step). */
  private scriptTicks: number | null = null;

  constructor(options: MarketOptions) {
    this.venue = options.venue;
    this.spec = specFor(options.venue, options.symbol);
    this.symbol = this.spec.symbol;
    this.rng = Random.derive(options.seed, `${options.venue}:${options.symbol}`);
    this.stepMs = options.stepMs;
    this.tradesKept = options.tradesKept ?? 100_000;
    this.tick = 10 ** -this.spec.priceDecimals;
    this.lot = 10 ** -this.spec.sizeDecimals;
    this.startTicks = Math.round(this.spec.price / this.tick);
    this.fair = this.startTicks;
    // Large ids like the real ones, so a collector that stores them in 32 bits finds out here.
    this.updateId = this.rng.int(3_000_000_000, 9_000_000_000);
    this.nextTradeId = this.rng.int(1_000_000_000, 5_000_000_000);
    this.nextAggId = this.rng.int(100_000_000, 900_000_000);
    this.lastChangeTime = options.now ?? Date.now();
    this.openInterestLots = this.lotsOfBase(this.spec.openInterest);
    this.seedBook();
    this.lastTop = this.topKey();
  }

  get lastUpdateId(): number {
    return this.updateId;
  }

  // ---- book queries --------------------------------------------------------------------------

  price(ticks: number): string {
    return formatFixed(ticks, this.spec.priceDecimals);
  }

  size(lots: number): string {
    return formatFixed(lots, this.spec.sizeDecimals);
  }

  /** The true book as numbers (parsed from the wire strings, so they compare equal to a collector's). */
  trueBook(): { lastUpdateId: number; bids: Level[]; asks: Level[] } {
    const toLevel = ([p, s]: [number, number]): Level => [Number(this.price(p)), Number(this.size(s))];
    return {
      lastUpdateId: this.updateId,
      bids: this.bids.ordered().map(toLevel),
      asks: this.asks.ordered().map(toLevel),
    };
  }

  /** What a REST depth request returns: the true book now, `limit` levels per side. */
  snapshot(limit: number): { lastUpdateId: number; time: number; bids: WireLevel[]; asks: WireLevel[] } {
    const toWire = ([p, s]: [number, number]): WireLevel => [this.price(p), this.size(s)];
    return {
      lastUpdateId: this.updateId,
      time: this.lastChangeTime,
      bids: this.bids.ordered(limit).map(toWire),
      asks: this.asks.ordered(limit).map(toWire),
    };
  }

  top(): { updateId: number; bid: WireLevel; ask: WireLevel } {
    const bid = this.bids.best()!;
    const ask = this.asks.best()!;
    return {
      updateId: this.updateId,
      bid: [this.price(bid), this.size(this.bids.sizes.get(bid)!)],
      ask: [this.price(ask), this.size(this.asks.sizes.get(ask)!)],
    };
  }

  trades(): SimTrade[] {
    return this.tradeLog.slice();
  }

  // ---- depth streams -------------------------------------------------------------------------

  /** Starts accumulating changes for a depth stream (one per speed); idempotent. */
  openDepthStream(key: string): void {
    if (!this.diffs.has(key)) this.diffs.set(key, new PendingDiff(this.updateId));
  }

  /**
   * The next event of a depth stream: every change since its previous event, or null when nothing
   * changed. A pending gap fault swallows one non-empty event (as if it were lost on the way); a
   * pending crossed fault adds a bid above the best ask to the message only.
   */
  takeDepth(key: string): DepthDiff | null {
    const diff = this.diffs.get(key);
    if (!diff || diff.empty) return null;
    if (diff.gapPending) {
      diff.gapPending = false;
      diff.prevLastId = diff.lastId;
      diff.clear();
      return null;
    }
    const b = sortLevels(diff.bids, true).map(([p, s]): WireLevel => [this.price(p), this.size(s)]);
    const a = sortLevels(diff.asks, false).map(([p, s]): WireLevel => [this.price(p), this.size(s)]);
    if (diff.crossedPending) {
      diff.crossedPending = false;
      const bestAsk = this.asks.best() ?? this.fair;
      b.unshift([this.price(bestAsk + this.rng.int(1, 5)), this.size(this.typicalLots())]);
    }
    const event: DepthDiff = { U: diff.firstId, u: diff.lastId, pu: diff.prevLastId, T: diff.lastTime, b, a };
    diff.prevLastId = diff.lastId;
    diff.clear();
    return event;
  }

  /** Fault: the next event of every depth stream of this symbol is lost. */
  injectGap(): void {
    for (const diff of this.diffs.values()) diff.gapPending = true;
  }

  /**
   * Fault (OKX maintenance): the update ids restart from a small number. The next event's `pu` is
   * still the previous event's `u`, so a client that chains ids accepts it (exchanges.md B3).
   */
  resetSequence(): void {
    this.updateId = this.rng.int(1, 1_000);
  }

  /** Fault: the next event of every depth stream of this symbol carries a crossing bid. */
  injectCrossed(): void {
    for (const diff of this.diffs.values()) diff.crossedPending = true;
  }

  // ---- derivatives data (USD-M) --------------------------------------------------------------

  markPrice(now: number): {
    mark: string;
    index: string;
    settle: string;
    fundingRate: string;
    nextFundingTime: number;
  } {
    const mid = this.mid();
    const index = mid * this.tick * (1 - this.basis);
    const mark = mid * this.tick;
    return {
      mark: mark.toFixed(8),
      index: index.toFixed(8),
      settle: ((index + mark) / 2).toFixed(8),
      fundingRate: this.fundingRate.toFixed(8),
      nextFundingTime: nextFundingTime(now),
    };
  }

  openInterest(): string {
    return this.size(this.openInterestLots);
  }

  /**
   * The global long/short account ratio of the period that starts at `timestamp`: a pure function of
   * the symbol and the time, so the history is the same whenever it is asked for.
   */
  longShortAt(timestamp: number): { longShortRatio: string; longAccount: string; shortAccount: string } {
    const wave = Math.sin(timestamp / 3_600_000 / 7) * 0.08;
    const noise = ((hash32(`${this.symbol}:${timestamp}`) % 1000) / 1000 - 0.5) * 0.04;
    const long = Math.min(0.8, Math.max(0.2, 0.6 + wave + noise));
    const longAccount = Number(long.toFixed(4));
    const shortAccount = Number((1 - longAccount).toFixed(4));
    return {
      longShortRatio: (longAccount / shortAccount).toFixed(4),
      longAccount: longAccount.toFixed(4),
      shortAccount: shortAccount.toFixed(4),
    };
  }

  // ---- scripted price path ------------------------------------------------------------------

  /** Follows `path` from `now` on (from the next step); null returns to the random walk from here. */
  setPath(path: PricePath | null, now: number): void {
    this.script = path ? { path, startedAt: now } : null;
    this.scriptTicks = null;
  }

  /** Where the path is at `now`, its price rounded to this venue's tick; null without a path. */
  pathPosition(now: number): PathPosition | null {
    if (!this.script) return null;
    const position = pathPositionAt(this.script.path, this.script.startedAt, now);
    return { ...position, price: Number(this.price(this.scriptedTicks(position.price))) };
  }

  private scriptedTicks(price: number): number {
    // Two ticks at least, so the bid one tick below stays a positive price.
    return Math.max(2, Math.round(price / this.tick));
  }

  // ---- the market step -----------------------------------------------------------------------

  /** One step of the market: price walk, takers, makers, and book upkeep. */
  step(now: number): void {
    const rng = this.rng;
    const dt = this.stepMs / 1000;
    // Except on Binance spot, ids jump between steps (and so between events): only `pu` (OKX
    // `prevSeqId`, Deribit `prev_change_id`) chains them.
    this.jumpBeforeNextChange = this.venue !== 'binance-spot';

    const scripted = this.script !== null;
    if (this.script) {
      this.followScript(pathPositionAt(this.script.path, this.script.startedAt, now).price, now);
    } else {
      // Fair price: a random walk that slowly reverts to where it started, so a long session stays sane.
      const sigma = (VOLATILITY * Math.sqrt(dt) * this.spec.price) / this.tick;
      this.fair += rng.normal() * sigma - (this.fair - this.startTicks) * 1e-5;

      // Takers follow the price through the book.
      const bestAsk = this.asks.best()!;
      const bestBid = this.bids.best()!;
      if (this.fair > bestAsk) this.execute('buy', this.lotsThrough(this.asks, this.fair), now);
      else if (this.fair < bestBid) this.execute('sell', this.lotsThrough(this.bids, this.fair), now);
    }

    // Random taker orders at the best price, mostly smaller than the level they hit. On a scripted
    // path none takes more than the best level, so every trade is at the scripted top.
    if (rng.chance(TAKER_ORDERS_PER_SEC * dt)) {
      const side = rng.chance(0.5) ? 'buy' : 'sell';
      const book = side === 'buy' ? this.asks : this.bids;
      const bestLots = book.sizes.get(book.best()!)!;
      const lots = rng.chance(0.1)
        ? bestLots + this.typicalLots() // now and then one sweeps the best level
        : Math.max(1, Math.round(bestLots * rng.range(0.05, 0.6)));
      this.execute(side, scripted ? Math.min(lots, bestLots) : lots, now);
    }

    if (this.spec.derivative) {
      if (rng.chance(LIQUIDATIONS_PER_SEC * dt)) this.liquidate(now, scripted);
      this.fundingRate = clamp(this.fundingRate + rng.normal() * 2e-6, -0.00375, 0.00375);
      this.basis = clamp(this.basis + rng.normal() * 1e-6, -0.002, 0.002);
      const delta = Math.round(this.openInterestLots * rng.normal() * 1e-4);
      this.openInterestLots = Math.max(1, this.openInterestLots + delta);
    }

    // Makers: size changes, cancels and new orders, mostly near the top.
    const changes = rng.int(2, 6);
    for (let i = 0; i < changes; i++) this.makerChange(now);

    if (this.scriptTicks !== null) this.keepTopAtScript(this.scriptTicks, now);
    else this.keepTopNearFair(now);
    this.fillHoles(this.bids, now);
    this.fillHoles(this.asks, now);
    this.keepDepth(now);

    const top = this.topKey();
    if (top !== this.lastTop) {
      this.lastTop = top;
      this.listener.onTop?.();
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  private seedBook(): void {
    const rng = this.rng;
    const half = rng.int(0, 1);
    let bid = Math.floor(this.fair) - half;
    let ask = bid + rng.int(1, 3);
    for (let i = rng.int(180, 260); i > 0; i--) {
      this.bids.set(bid, this.levelLots(0));
      bid -= rng.int(1, this.spec.maxGapTicks);
    }
    for (let i = rng.int(180, 260); i > 0; i--) {
      this.asks.set(ask, this.levelLots(0));
      ask += rng.int(1, this.spec.maxGapTicks);
    }
  }

  private typicalLots(): number {
    return Math.max(1, this.lotsOfBase(this.spec.levelNotional / this.spec.price));
  }

  /** Lots on the wire for an amount of base currency, in the venue's size unit. */
  private lotsOfBase(amount: number): number {
    const { sizeUnit, contractValue, price } = this.spec;
    const units =
      sizeUnit === 'usd' ? amount * price : sizeUnit === 'contracts' ? amount / contractValue : amount;
    return Math.round(units / this.lot);
  }

  /** A random level size: log-normal around the typical one, thinner at the very top. */
  private levelLots(rank: number): number {
    const scale = rank < 3 ? 0.4 : 1;
    return Math.max(1, Math.round(this.typicalLots() * scale * Math.exp(this.rng.normal() * 0.9)));
  }

  private mid(): number {
    return (this.bids.best()! + this.asks.best()!) / 2;
  }

  private topKey(): string {
    const bid = this.bids.best()!;
    const ask = this.asks.best()!;
    return `${bid}:${this.bids.sizes.get(bid)}:${ask}:${this.asks.sizes.get(ask)}`;
  }

  /** Changes one level of the true book, advances the update id and records it in every pending diff. */
  private setLevel(side: BookSide, price: number, lots: number, now: number): void {
    const current = side.sizes.get(price) ?? 0;
    if (current === lots) return;
    side.set(price, lots);
    if (this.jumpBeforeNextChange) {
      this.jumpBeforeNextChange = false;
      this.updateId += this.rng.int(2, 40);
    } else {
      this.updateId += 1;
    }
    this.lastChangeTime = now;
    for (const diff of this.diffs.values()) {
      if (diff.empty) diff.firstId = this.updateId;
      diff.lastId = this.updateId;
      diff.lastTime = now;
      (side.bid ? diff.bids : diff.asks).set(price, Math.max(0, lots));
    }
  }

  /** Lots resting on `book` at prices up to `limit` (toward the far side), at most five levels. */
  private lotsThrough(book: BookSide, limit: number): number {
    let lots = 0;
    for (let rank = 0; rank < 5; rank++) {
      const price = book.at(rank);
      if (price === undefined || (book.bid ? price < limit : price > limit)) break;
      lots += book.sizes.get(price)!;
    }
    return lots;
  }

  /** A taker order of `lots`: fills level by level from the best price, keeping at least one level. */
  private execute(side: 'buy' | 'sell', lots: number, now: number): { filled: number; notional: number } {
    const book = side === 'buy' ? this.asks : this.bids;
    let remaining = lots;
    let filled = 0;
    let notional = 0;
    while (remaining > 0 && book.count > 1) {
      const price = book.best()!;
      const resting = book.sizes.get(price)!;
      const take = Math.min(remaining, resting);
      this.setLevel(book, price, resting - take, now);
      this.recordFill(side, price, take, now);
      remaining -= take;
      filled += take;
      notional += take * price;
    }
    return { filled, notional };
  }

  /** Splits a fill at one price over one to three maker orders: contiguous trade ids, one aggTrade. */
  private recordFill(side: 'buy' | 'sell', price: number, lots: number, now: number): void {
    const parts = Math.min(lots, this.rng.int(1, 3));
    const trades: { id: number; size: string }[] = [];
    let left = lots;
    for (let i = 0; i < parts; i++) {
      const part =
        i === parts - 1 ? left : Math.max(1, Math.floor((left / (parts - i)) * this.rng.range(0.5, 1)));
      left -= part;
      const id = this.nextTradeId++;
      trades.push({ id, size: this.size(part) });
      this.tradeLog.push({
        id,
        price: Number(this.price(price)),
        size: Number(this.size(part)),
        side,
        time: now,
      });
    }
    // Trimmed in chunks so that the bound costs nothing per trade.
    if (this.tradeLog.length > this.tradesKept + 1_000) {
      this.tradeLog.splice(0, this.tradeLog.length - this.tradesKept);
    }
    this.listener.onFill?.({
      aggId: this.nextAggId++,
      firstTradeId: trades[0]!.id,
      lastTradeId: trades[trades.length - 1]!.id,
      side,
      price: this.price(price),
      size: this.size(lots),
      time: now,
      trades,
    });
  }

  /** A forced order: an IOC taker beyond the best price; the stream shows its bankruptcy price. */
  private liquidate(now: number, scripted: boolean): void {
    const side = this.rng.chance(0.5) ? 'sell' : 'buy';
    const book = side === 'buy' ? this.asks : this.bids;
    const bestLots = book.sizes.get(book.best()!)!;
    const lots = Math.max(1, Math.round(bestLots * this.rng.range(0.2, 1.5)));
    const { filled, notional } = this.execute(side, scripted ? Math.min(lots, bestLots) : lots, now);
    if (filled === 0) return;
    const edge = Math.max(1, Math.round(this.mid() * 0.003));
    const orderPrice = side === 'sell' ? this.bids.best()! - edge : this.asks.best()! + edge;
    this.listener.onLiquidation?.({
      side: side === 'sell' ? 'SELL' : 'BUY',
      price: this.price(Math.max(1, orderPrice)),
      averagePrice: ((notional / filled) * this.tick).toFixed(this.spec.priceDecimals + 2),
      quantity: this.size(filled),
      time: now,
    });
  }

  private makerChange(now: number): void {
    const rng = this.rng;
    const book = rng.chance(0.5) ? this.bids : this.asks;
    const rank = Math.min(book.count - 1, Math.floor(Math.abs(rng.normal()) * 25));
    const price = book.at(rank)!;
    const roll = rng.next();
    if (roll < 0.6) {
      const lots = book.sizes.get(price)!;
      this.setLevel(book, price, Math.max(1, Math.round(lots * Math.exp(rng.normal() * 0.5))), now);
    } else if (roll < 0.8) {
      if (book.count > MIN_LEVELS && rank > 0) this.setLevel(book, price, 0, now);
    } else {
      // A new order in the gap behind this level (away from the top), if there is room.
      const behind = book.at(rank + 1);
      if (behind === undefined) return;
      const gap = Math.abs(price - behind);
      if (gap < 2) return;
      const offset = rng.int(1, gap - 1);
      this.setLevel(book, book.bid ? price - offset : price + offset, this.levelLots(rank + 1), now);
    }
  }

  /**
   * One scripted step at `price`: on a new price, the quotes it crosses are pulled, the book requoted
   * one tick either side of it, and a taker prints at the new best price in the direction of the move.
   */
  private followScript(price: number, now: number): void {
    const target = this.scriptedTicks(price);
    if (target === this.scriptTicks) return;
    const up = target > this.mid();
    this.scriptTicks = target;
    this.fair = target;
    while (this.asks.count > 0 && this.asks.best()! <= target)
      this.setLevel(this.asks, this.asks.best()!, 0, now);
    while (this.bids.count > 0 && this.bids.best()! >= target)
      this.setLevel(this.bids, this.bids.best()!, 0, now);
    this.quoteOutward(this.asks, target + 1, now);
    this.quoteOutward(this.bids, target - 1, now);
    const book = up ? this.asks : this.bids;
    const bestLots = book.sizes.get(book.best()!)!;
    this.execute(up ? 'buy' : 'sell', Math.max(1, Math.round(bestLots * this.rng.range(0.05, 0.6))), now);
  }

  /**
   * Makers quote from `top` away from the spread until they meet the levels still standing (at most a
   * full book; keepDepth trims what lies beyond).
   */
  private quoteOutward(book: BookSide, top: number, now: number): void {
    const standing = book.best();
    let price = top;
    for (let added = 0; added < MAX_LEVELS && price > 0; added++) {
      if (standing !== undefined && (book.bid ? price <= standing : price >= standing)) return;
      this.setLevel(book, price, this.levelLots(added), now);
      price += (book.bid ? -1 : 1) * this.rng.int(1, this.spec.maxGapTicks);
    }
  }

  /** On a scripted path the best bid and ask are requoted one tick either side of the price. */
  private keepTopAtScript(target: number, now: number): void {
    if (this.bids.best()! < target - 1) this.setLevel(this.bids, target - 1, this.levelLots(0), now);
    if (this.asks.best()! > target + 1) this.setLevel(this.asks, target + 1, this.levelLots(0), now);
  }

  /** Makers requote around the fair price, so the spread stays a few ticks wide. */
  private keepTopNearFair(now: number): void {
    const rng = this.rng;
    const wantBid = Math.floor(this.fair) - rng.int(0, 1);
    const wantAsk = Math.max(wantBid + 1, Math.ceil(this.fair) + rng.int(0, 1));
    const bestBid = this.bids.best()!;
    const bestAsk = this.asks.best()!;
    if (bestBid < wantBid - 1 && wantBid < bestAsk) this.setLevel(this.bids, wantBid, this.levelLots(0), now);
    if (bestAsk > wantAsk + 1 && wantAsk > this.bids.best()!) {
      this.setLevel(this.asks, wantAsk, this.levelLots(0), now);
    }
  }

  /**
   * After the price has run through the book, the levels it left behind are sparse: makers fill the
   * first wide hole near the top, one level per step, so the top of the book stays dense.
   */
  private fillHoles(book: BookSide, now: number): void {
    const ranks = Math.min(book.count - 1, 40);
    for (let rank = 0; rank < ranks; rank++) {
      const price = book.at(rank)!;
      const gap = Math.abs(price - book.at(rank + 1)!);
      if (gap <= this.spec.maxGapTicks) continue;
      const offset = this.rng.int(1, Math.min(gap - 1, this.spec.maxGapTicks));
      this.setLevel(book, book.bid ? price - offset : price + offset, this.levelLots(rank + 1), now);
      return;
    }
  }

  /** Between MIN_LEVELS and MAX_LEVELS per side: far levels come and go as the price moves. */
  private keepDepth(now: number): void {
    for (const book of [this.bids, this.asks]) {
      while (book.count > MAX_LEVELS) this.setLevel(book, book.worst()!, 0, now);
      while (book.count < MIN_LEVELS) {
        const gap = this.rng.int(1, this.spec.maxGapTicks);
        const worst = book.worst()!;
        const price = book.bid ? worst - gap : worst + gap;
        if (price <= 0) break;
        this.setLevel(book, price, this.levelLots(book.count), now);
      }
    }
  }
}

function sortLevels(levels: Map<number, number>, descending: boolean): [number, number][] {
  return [...levels].sort((x, y) => (descending ? y[0] - x[0] : x[0] - y[0]));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Funding every 8 hours at 00:00, 08:00 and 16:00 UTC. */
export function nextFundingTime(now: number): number {
  return (Math.floor(now / EIGHT_HOURS) + 1) * EIGHT_HOURS;
}
