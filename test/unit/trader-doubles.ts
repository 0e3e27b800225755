/**
 * Test doubles for the trader engine's seams (src/services/trader/types.ts): a fake clock whose
 * timers run in due order (equal times in the order they were set, as Node's), an in-memory
 * TraderStore that keeps copies (so the engine cannot change what was "written" behind its back)
 * and refuses a fill id twice, and market-data record builders.
 */
import { createPaperExecution, TraderEngine } from '../../src/services/trader/engine';
import type {
  AccountState,
  Clock,
  ExecutionAdapter,
  StoredPosition,
  TraderStore,
} from '../../src/services/trader/types';
import type { StrategyCandle } from '../../src/services/strategies';
import type { TopOfBookRecord, TradeRecord } from '../../src/shared/market';
import {
  traderConfigSchema,
  type RiskLimits,
  type TraderAlert,
  type TraderConfigInput,
  type TraderEquityPoint,
  type TraderFill,
  type TraderOrder,
  type TraderSnapshot,
} from '../../src/shared/trader-api';

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

export class FakeClock implements Clock {
  private timers: Timer[] = [];
  private seq = 0;

  constructor(public t: number) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    if (!(ms >= 0)) throw new RangeError(`setTimeout ms must be >= 0, not ${ms}`);
    const timer: Timer = { due: this.t + ms, seq: this.seq++, fn, live: true };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.live = false;
      },
    };
  }

  /** Runs every timer due up to now + ms (time moves to each one's due time), then sets now + ms. */
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  advanceTo(until: number): void {
    for (;;) {
      this.timers = this.timers.filter((x) => x.live);
      let next: Timer | null = null;
      for (const x of this.timers) {
        if (x.due <= until && (!next || x.due < next.due || (x.due === next.due && x.seq < next.seq)))
          next = x;
      }
      if (!next) break;
      next.live = false;
      this.t = Math.max(this.t, next.due);
      next.fn();
    }
    this.t = Math.max(this.t, until);
  }

  pending(): number {
    return this.timers.filter((x) => x.live).length;
  }
}

const copy = <T>(x: T): T => structuredClone(x);

export class MemoryTraderStore implements TraderStore {
  account: AccountState | null = null;
  readonly positions = new Map<string, StoredPosition>();
  /** By clientOrderId, in insertion order. */
  readonly orders = new Map<string, TraderOrder>();
  readonly fills: TraderFill[] = [];
  readonly equity: TraderEquityPoint[] = [];
  limits: RiskLimits | null = null;
  /** Calls of applyFill that returned false (a fill id already recorded). */
  duplicateFills = 0;

  load() {
    if (!this.account) return null;
    return {
      account: copy(this.account),
      positions: [...this.positions.values()].map(copy),
      openOrders: [...this.orders.values()]
        .filter((o) => o.status === 'new' || o.status === 'working')
        .map(copy),
    };
  }

  init(account: AccountState): void {
    if (this.account) throw new Error('init on a store that has an account');
    this.account = copy(account);
  }

  insertOrder(order: TraderOrder, account: AccountState): void {
    if (this.orders.has(order.clientOrderId)) throw new Error(`order ${order.clientOrderId} exists`);
    this.needAccount();
    this.orders.set(order.clientOrderId, copy(order));
    this.account = copy(account);
  }

  updateOrder(order: TraderOrder): void {
    if (!this.orders.has(order.clientOrderId)) throw new Error(`no order ${order.clientOrderId}`);
    this.orders.set(order.clientOrderId, copy(order));
  }

  applyFill(fill: TraderFill, order: TraderOrder, position: StoredPosition, account: AccountState): boolean {
    this.needAccount();
    if (this.fills.some((f) => f.id === fill.id)) {
      this.duplicateFills += 1;
      return false;
    }
    this.fills.push(copy(fill));
    this.orders.set(order.clientOrderId, copy(order));
    this.positions.set(position.symbol, copy(position));
    this.account = copy(account);
    return true;
  }

  saveAccount(account: AccountState): void {
    this.needAccount();
    this.account = copy(account);
  }

  saveLimits(limits: RiskLimits): void {
    this.limits = copy(limits);
  }

  appendEquity(point: TraderEquityPoint): void {
    this.equity.push(copy(point));
  }

  private needAccount(): void {
    if (!this.account) throw new Error('the store has no account yet (init first)');
  }
}

export function trade(
  symbol: string,
  at: number,
  price: number,
  id: string | number,
  more: Partial<TradeRecord> = {},
): TradeRecord {
  return {
    type: 'trade',
    venue: 'binance-spot',
    symbol,
    exchangeTs: at,
    localTs: at,
    id: String(id),
    price,
    size: 1,
    side: 'buy',
    ...more,
  };
}

/** A top of book `half` either side of `mid`. */
export function top(symbol: string, at: number, mid: number, half = 0.5): TopOfBookRecord {
  return {
    type: 'top',
    venue: 'binance-spot',
    symbol,
    exchangeTs: at,
    localTs: at,
    bidPrice: mid - half,
    bidSize: 10,
    askPrice: mid + half,
    askSize: 10,
  };
}

/** What the engine's market-data side needs (TraderEngine satisfies it). */
export interface TickSink {
  onTrade(t: TradeRecord, receivedAt?: number): void;
  onTop(t: TopOfBookRecord, receivedAt?: number): void;
}

/**
 * A scripted market for one symbol, one second per candle: second i of the path is a top of book at
 * t0 + i s + 100 ms (mid p, spread 1) and one trade at t0 + i s + 200 ms (price p). The trade of
 * second i + 1 closes candle i, so a decision on candle i happens at t0 + (i + 1) s + 200 ms, with the
 * mid of second i + 1.
 */
export class ScriptedMarket {
  private tradeNo = 0;

  constructor(
    private readonly sink: TickSink,
    private readonly clock: FakeClock,
    readonly t0: number,
    readonly symbol = 'BTCUSDT',
  ) {}

  at(second: number, ms = 0): number {
    return this.t0 + second * 1000 + ms;
  }

  /** Second `i`: the top (unless `quotes` is false), then the trade. */
  second(i: number, price: number, quotes = true): void {
    this.clock.advanceTo(this.at(i, 100));
    if (quotes) this.sink.onTop(top(this.symbol, this.clock.now(), price));
    this.clock.advanceTo(this.at(i, 200));
    this.sink.onTrade(trade(this.symbol, this.clock.now(), price, ++this.tradeNo));
  }

  /** Seconds from..from + prices.length − 1. */
  path(prices: readonly number[], from = 0, quotes = true): void {
    prices.forEach((p, k) => this.second(from + k, p, quotes));
  }

  /** A top of book now (mid `price`). */
  quote(price: number): void {
    this.sink.onTop(top(this.symbol, this.clock.now(), price));
  }
}

/** One symbol on 1 s candles, a 2/5 moving-average crossover, no costs, limits that never bind. */
export const CROSSOVER_1S: TraderConfigInput = {
  symbols: ['BTCUSDT'],
  resolution: '1s',
  strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } },
  equity: 10_000,
  costs: { feeBps: 0, slippageBps: 0, latencyMs: 250 },
  limits: { maxPositionNotional: 1e6, maxOrderNotional: 1e6, maxOrdersPerMinute: 100, maxDailyLoss: 5_000 },
};

export interface EngineSetup {
  /** The scripted market's second 0; the clock starts here unless `startAt` says otherwise. */
  t0: number;
  startAt?: number;
  /** A store a previous engine wrote (a restart). */
  store?: MemoryTraderStore;
  /** Another adapter than paper (made on the test's clock). */
  execution?: (clock: FakeClock) => ExecutionAdapter;
  history?: ReadonlyMap<string, readonly StrategyCandle[]>;
  onLatency?: (kind: 'tick' | 'decision' | 'order', ms: number) => void;
}

/** An engine named `paper1` on a fake clock at t0, started, with its alerts and snapshots collected. */
export function setupEngine(input: TraderConfigInput, o: EngineSetup) {
  const clock = new FakeClock(o.startAt ?? o.t0);
  const config = traderConfigSchema.parse(input);
  const store = o.store ?? new MemoryTraderStore();
  const execution = o.execution ? o.execution(clock) : createPaperExecution({ clock, costs: config.costs });
  const alerts: TraderAlert[] = [];
  const snapshots: TraderSnapshot[] = [];
  const engine = new TraderEngine({
    service: 'paper1',
    config,
    clock,
    store,
    execution,
    onAlert: (a) => alerts.push(a),
    onSnapshot: (s) => snapshots.push(s),
    onLatency: o.onLatency,
  });
  engine.start(o.history ?? new Map());
  const market = new ScriptedMarket(engine, clock, o.t0, config.symbols[0]);
  return { clock, config, store, execution, engine, alerts, snapshots, market };
}
