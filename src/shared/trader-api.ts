/**
 * The trader's contract: its configuration (a trader service's `config`), what it reports (a
 * snapshot of positions, orders, P&L and why it may or may not open positions), the requests the
 * core sends it over the child protocol, the events it sends back, and the control API's inputs.
 *
 * The trader program (src/services/trader) is the only writer of its database,
 * `<dataDir>/trader/<service>.db`; the core reads it (read-only) to show a stopped trader's history.
 *
 * Money is in the quote currency of the venue's symbols (USDT for the Binance spot symbols); sizes in
 * base units. Paper is the only execution mode for now: `live` is refused with a clear error until a
 * live execution adapter exists.
 */
import { z } from 'zod';
import { marketSymbolSchema } from './market-api';
import { venues } from './market';
import { DEFAULT_COSTS } from './optimizer-api';
import { serviceNameSchema } from './services';

export const traderModes = ['paper', 'live'] as const;
export type TraderExecutionMode = (typeof traderModes)[number];

const money = (max: number) => z.number().gt(0, 'must be more than 0').max(max, `must be at most ${max}`);

export const riskLimitsSchema = z
  .object({
    /** Largest position per symbol, as notional (|qty| × price) in quote currency. */
    maxPositionNotional: money(1e12),
    /** Largest single order, as notional in quote currency. A bigger move is split over decisions. */
    maxOrderNotional: money(1e12),
    /** Orders sent in any 60 s window; one more is refused (and alerted once per window). */
    maxOrdersPerMinute: z.number().int('must be a whole number').min(1).max(10_000),
    /** Loss since the start of the UTC day (realized + unrealized) that stops opening positions. */
    maxDailyLoss: money(1e12),
  })
  .strict();
export type RiskLimits = z.infer<typeof riskLimitsSchema>;

export const DEFAULT_RISK_LIMITS: RiskLimits = {
  maxPositionNotional: 5_000,
  maxOrderNotional: 2_500,
  maxOrdersPerMinute: 30,
  maxDailyLoss: 500,
};

/** The strategy a trader runs: written by a person, or by `optimizer.apply` (then `source` says which trial). */
export const traderStrategySchema = z
  .object({
    id: z.string().min(1).max(64),
    /** The strategy version the parameters were chosen for (optimizer.apply writes it). */
    version: z.number().int().min(1).optional(),
    params: z.record(z.string().max(64), z.number()).default({}),
    source: z
      .object({ runId: z.number().int().min(1), trialId: z.number().int().min(0), appliedAt: z.number() })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();
export type TraderStrategyConfig = z.infer<typeof traderStrategySchema>;

/** The `trader` built-in program's configuration (its definition's `config`); every field has a default. */
export const traderConfigSchema = z
  .object({
    mode: z
      .enum(traderModes)
      .default('paper')
      .refine((m) => m === 'paper', {
        message: 'live trading needs a live execution adapter, and none exists yet: use "paper"',
      }),
    venue: z.enum(venues).default('binance-spot'),
    /** The venue's own symbol spelling (BTCUSDT on Binance, BTC-USDT on OKX spot). */
    symbols: z
      .array(marketSymbolSchema)
      .min(1, 'name at least one symbol')
      .max(20, 'at most 20 symbols')
      .refine((s) => new Set(s).size === s.length, 'lists a symbol twice')
      .default(['BTCUSDT']),
    /** The candles the strategy decides on (built live from trades). */
    resolution: z.enum(['1s', '1m']).default('1m'),
    strategy: traderStrategySchema.default({ id: 'ma-crossover', params: {} }),
    /** Starting capital in quote currency; each symbol gets an equal share for sizing. */
    equity: money(1e12).default(10_000),
    costs: z
      .object({
        feeBps: z.number().min(0).max(1000).default(DEFAULT_COSTS.feeBps),
        slippageBps: z.number().min(0).max(1000).default(DEFAULT_COSTS.slippageBps),
        latencyMs: z
          .number()
          .int('must be a whole number')
          .min(0)
          .max(60_000)
          .default(DEFAULT_COSTS.latencyMs),
      })
      .strict()
      .default(DEFAULT_COSTS),
    /** Whether a negative target opens a short (false: it means flat, as on spot). */
    allowShort: z.boolean().default(false),
    limits: riskLimitsSchema.default(DEFAULT_RISK_LIMITS),
    /** A symbol without a top-of-book update for this long is stale: new orders pause. */
    staleAfterMs: z.number().int().min(500).max(600_000).default(5_000),
  })
  .strict();
export type TraderConfigInput = z.input<typeof traderConfigSchema>;
export type TraderConfig = z.output<typeof traderConfigSchema>;

export type OrderSide = 'buy' | 'sell';
export const orderStatuses = ['new', 'working', 'filled', 'canceled', 'rejected'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export interface TraderOrder {
  /** Idempotent: the same id is never sent for two orders, and resending it never makes a second one. */
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  /** Base units, > 0. */
  qty: number;
  /** Market orders only for now. */
  type: 'market';
  /** Only reduces a position (flatten, kill switch, closing while opening is stopped). */
  reduceOnly: boolean;
  status: OrderStatus;
  filledQty: number;
  avgFillPrice: number | null;
  fees: number;
  /** Why it was sent (the strategy's reason, "kill switch", "flatten"), or why it was rejected/canceled. */
  reason: string;
  createdAt: number;
  updatedAt: number;
}

export interface TraderFill {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  price: number;
  fee: number;
  /** P&L this fill realized (closing part only), before its fee. */
  realizedPnl: number;
  ts: number;
}

export interface TraderPosition {
  symbol: string;
  /** Signed base units: > 0 long, < 0 short. */
  qty: number;
  /** Average entry price of the open quantity (null when flat). */
  avgPrice: number | null;
  /** Mid of the last top of book (null before the first one). */
  mark: number | null;
  unrealizedPnl: number;
  realizedPnl: number;
  fees: number;
}

export interface TraderEquityPoint {
  t: number;
  equity: number;
  realizedPnl: number;
  unrealizedPnl: number;
}

/**
 * Why opening positions is not allowed right now (closing always is). `person`: a person chose
 * "stop opening"; `kill-switch`: the kill switch ran; `daily-loss`: the day's loss limit was hit;
 * `stale`: market data is stale or its collector degraded; `warming`: the strategy is warming up;
 * `reloading`: new parameters are being applied.
 */
export const openingBlocks = [
  'person',
  'kill-switch',
  'daily-loss',
  'stale',
  'warming',
  'reloading',
] as const;
export type OpeningBlock = (typeof openingBlocks)[number];

export interface TraderFeedState {
  symbol: string;
  bid: number | null;
  ask: number | null;
  /** Local receive time of the last top of book. */
  lastAt: number | null;
  stale: boolean;
}

export interface TraderSnapshot {
  service: string;
  mode: TraderExecutionMode;
  at: number;
  /** `running` while the program runs; `stopped` when read from its database. */
  running: boolean;
  reloading: boolean;
  /** Empty when the trader may open positions. */
  blocks: OpeningBlock[];
  venue: string;
  resolution: '1s' | '1m';
  strategy: {
    id: string;
    version: number;
    params: Record<string, number>;
    source: { runId: number; trialId: number; appliedAt: number } | null;
    /** Candles still needed before the first decision (0 once warm). */
    warmupLeft: number;
  };
  limits: RiskLimits;
  account: {
    initialEquity: number;
    cash: number;
    equity: number;
    realizedPnl: number;
    unrealizedPnl: number;
    fees: number;
    /** Equity at the start of the UTC day, and the change since. */
    dayStartEquity: number;
    dayPnl: number;
  };
  positions: TraderPosition[];
  workingOrders: TraderOrder[];
  feeds: TraderFeedState[];
  /** The collector feeding this trader reported degraded (from the core), with why. */
  feedProblem: string | null;
  lastDecision: { symbol: string; target: number; reason: string; at: number } | null;
  counters: { ticks: number; decisions: number; orders: number; fills: number; rejected: number };
}

/** Requests the core sends the trader program (child protocol `request`). */
export const TRADER_METHODS = {
  snapshot: 'trader.snapshot',
  /** params: { limits: RiskLimits } → TraderSnapshot */
  setLimits: 'trader.setLimits',
  /** params: { allowed: boolean } → TraderSnapshot (a person's stop opening / resume opening) */
  opening: 'trader.opening',
  /** params: {} → TraderSnapshot once every position is flat (working orders canceled first) */
  flatten: 'trader.flatten',
  /** params: {} → TraderSnapshot: cancel every working order, flatten everything, stop opening */
  kill: 'trader.kill',
  /** params: { problem: string | null } → TraderSnapshot (the core's view of the collector's health) */
  feed: 'trader.feed',
} as const;

/** Events the trader program sends (child protocol `event`). */
export const TRADER_EVENTS = {
  /** data: TraderSnapshot, at most 4 times a second and at every order, fill or block change */
  snapshot: 'trader.snapshot',
  /** data: TraderAlert */
  alert: 'trader.alert',
} as const;

export const traderAlertKinds = ['daily-loss', 'stale', 'risk', 'kill-switch', 'reload'] as const;
export type TraderAlertKind = (typeof traderAlertKinds)[number];

export interface TraderAlert {
  kind: TraderAlertKind;
  severity: 'warning' | 'critical';
  message: string;
  /** An alert that ends (stale data fresh again) is sent again with cleared: true. */
  cleared?: boolean;
}

// ---- control API inputs (src/shared/api.ts) ----

const byTrader = { name: serviceNameSchema };
const cursor = z.number().int().min(0);

/** A person's confirmation of what they start: the mode the UI showed them. */
export const traderConfirmSchema = z.object({ mode: z.enum(traderModes) }).strict();
export type TraderConfirm = z.infer<typeof traderConfirmSchema>;

export const traderStateInput = z.object(byTrader).strict();
export const traderOrdersInput = z
  .object({
    ...byTrader,
    status: z.enum(['working', 'done', 'all']).default('all'),
    /** Older ones: created before this order's position in the list (its `seq`). */
    before: cursor.optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict();
export const traderFillsInput = z
  .object({ ...byTrader, before: cursor.optional(), limit: z.number().int().min(1).max(1000).default(100) })
  .strict();
export const traderEquityInput = z
  .object({
    ...byTrader,
    from: z.number().int().min(0).optional(),
    to: z.number().int().min(0).optional(),
    maxPoints: z.number().int().min(4).max(5000).default(500),
  })
  .strict();
export const traderLimitsInput = z.object({ ...byTrader, limits: riskLimitsSchema }).strict();
export const traderOpeningInput = z.object({ ...byTrader, allowed: z.boolean() }).strict();
export const traderStopInput = z
  .object({
    ...byTrader,
    /** true: cancel and flatten everything, then stop the program; false: stop it, positions kept. */
    flatten: z.boolean(),
  })
  .strict();
export const traderKillInput = z
  .object({ ...byTrader, confirm: z.literal(true, { error: 'the kill switch needs confirm: true' }) })
  .strict();

export interface TraderPage<T> {
  items: (T & { seq: number })[];
  /** Pass as `before` for the next (older) page; null at the end. */
  next: number | null;
}

export interface TraderUpdateEvent {
  name: string;
  snapshot: TraderSnapshot;
}
