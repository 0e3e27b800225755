/**
 * The trader engine: market data in, strategy decisions, orders out, fills accounted; pure (no fs,
 * no bus, no Date.now, no setTimeout: everything goes through the Clock, the TraderStore and the
 * ExecutionAdapter of ./types), so a fake clock and in-memory doubles test it whole.
 *
 * The rules it keeps (issue 11), and the details decided here:
 *
 * Candles and decisions
 * - Candles are built from trades at config.resolution by exchange time (live-candles.ts); a candle
 *   closes when a trade of a later interval arrives, or by timer at its interval's end + 1 s. The
 *   strategy sees closed candles only, as in backtests. `start(history)` warms each symbol's strategy
 *   on recorded candles (their decisions are dropped, as the backtester's warmup); the `warming` block
 *   shows while some symbol's strategy still needs candles.
 * - Orders go out only at a candle close (a decision point) and from flatten/kill; a top of book only
 *   moves marks. A strategy Decision whose target (negative → 0 unless allowShort; clamped to −1…1)
 *   differs from the symbol's current one sets the wanted position once, sized on the equity and mid
 *   of that moment: target × (equity / symbols) / mid, clipped to maxPositionNotional / mid (as the
 *   backtester sizes: no rebalancing as equity drifts). At every decision point the engine sends the
 *   order toward it: wanted − position − in-flight, at most maxOrderNotional (the rest at later
 *   decision points), never adding past maxPositionNotional at the current mid (risk.ts).
 * - At most maxOrdersPerMinute orders in any 60 s; one more is held (retried at the next decision
 *   point) and a `risk` warning is raised once until an order can go out again. Flatten and kill
 *   orders are outside the rate and order-size limits (they close whole positions at once) but count
 *   in the window.
 *
 * Blocks (any of person, kill-switch, daily-loss, stale): only reduce-only orders toward flat go out.
 * - `person` (setOpening(false)) and `kill-switch` last, across restarts, until setOpening(true).
 * - `daily-loss`: day-start equity − equity (marked to the mids) ≥ maxDailyLoss → a critical alert,
 *   until the next UTC day (then a `cleared` alert; the day starts at the equity of that moment).
 *   Raising the limit does not lift a halt already hit today. Checked at every fill, every top of a
 *   symbol held, and every 250 ms.
 * - `stale`: a symbol without a top of book for staleAfterMs (from start, before its first one), or
 *   setFeedProblem(text): a warning alert naming why; when every cause has gone, an alert with
 *   cleared: true. Checked every 250 ms and at every top while stale.
 * - `warming` and `reloading` are shown but are not reasons to refuse: a warming strategy does not
 *   decide, and nothing is sent while reloading.
 *
 * Orders and durability
 * - clientOrderId `<service>-<n>`, n = account.nextOrderNo. An order is written (status new) with the
 *   advanced nextOrderNo BEFORE it is submitted; the venue's acknowledgement makes it `working`; a
 *   fill's order, position and account are computed first, written by one store.applyFill, and taken
 *   into memory only if the store recorded it (false: a fill id already recorded, ignored). A fill for
 *   an order not open here is ignored (a resend of a recorded one). A rejected or canceled order keeps
 *   why it was sent, followed by why it ended.
 * - start() resubmits every order the store has without an outcome (new/working), once. Splits in
 *   progress are not resumed after a restart: the engine waits for the strategy's next Decision.
 * - Counters (ticks, decisions, orders, fills, rejected) count this run only.
 * - Accounting (portfolio.ts): average cost, realized P&L before fees, fees apart; unmarked positions
 *   (no top yet since start) count at their average price.
 *
 * Flatten and kill
 * - flatten(): the strategy's orders are held, every working order canceled; once a symbol has no
 *   order open, its position is closed by one reduce-only market order; resolves when every position
 *   is flat and no order is open. A rejected closing order is retried every second; after 30 s the
 *   promise rejects naming what is still open. Wanted positions are forgotten: the strategy reopens
 *   only on its next Decision.
 * - kill(): opening blocked by `kill-switch` (stored), a critical alert, then flatten.
 *
 * Reload: new ticks are buffered (not dropped; quotes still reach the execution adapter, the market
 * does not wait), `reloading` shows, in-flight orders finish (at most 10 s; then a `reload` warning
 * and the reload goes on), the new strategy is built and warmed from this engine's last 1000 closed
 * candles per symbol (a new resolution: warmed live), limits/staleness/costs (paper: setCosts) take
 * the new values, the buffer is handled in arrival order, then live again. A reload may add symbols;
 * it refuses to drop one holding a position or an order, and to change the venue or the mode. The
 * account's initial equity is the stored one (config.equity only seeds a new store).
 *
 * Snapshots (onSnapshot) go out at most every 250 ms, as soon as allowed after any change. Equity is
 * appended to the store every 5 s. Latency (onLatency) is measured with performance.now() against the
 * receivedAt given; nothing the engine decides depends on it. Of a tick that leads to an order, both
 * the decision (the order sized and allowed, before it is written) and the order (written to the
 * store, which syncs it to disk, and sent) are reported: the first is the trader's own work, the
 * second adds the disk's sync.
 */
import { candleIntervals } from '../collector/candles';
import {
  fmt,
  getStrategy,
  parseParams,
  type Params,
  type Strategy,
  type StrategyCandle,
  type StrategyDefinition,
} from '../strategies';
import type { TopOfBookRecord, TradeRecord } from '../../shared/market';
import {
  riskLimitsSchema,
  type OpeningBlock,
  type OrderSide,
  type RiskLimits,
  type TraderAlert,
  type TraderConfig,
  type TraderOrder,
  type TraderPosition,
  type TraderSnapshot,
} from '../../shared/trader-api';
import { Freshness } from './freshness';
import { LiveCandles } from './live-candles';
import type { PaperCosts } from './paper-execution';
import {
  applyFillToAccount,
  applyFillToPosition,
  flatPosition,
  markPortfolio,
  unrealizedPnl,
  utcDay,
} from './portfolio';
import { dailyLossHit, nextOrderQty, OrderRate, wantedQty } from './risk';
import type {
  AccountState,
  Clock,
  ExecutionAdapter,
  ExecutionFill,
  StoredPosition,
  TraderStore,
} from './types';

export { createPaperExecution, type PaperCosts, type PaperExecution } from './paper-execution';

export interface EngineOptions {
  service: string;
  /** Parsed with traderConfigSchema. */
  config: TraderConfig;
  clock: Clock;
  store: TraderStore;
  execution: ExecutionAdapter;
  /** Coalesced: at most every 250 ms, promptly after an order/fill/block change. */
  onSnapshot?(s: TraderSnapshot): void;
  onAlert?(a: TraderAlert): void;
  /**
   * ms from bus receive (performance.now() passed in): `tick` to done handling, every tick; of a tick
   * that leads to an order, `decision` to the order decided (before it is stored) and `order` to it
   * stored and sent.
   */
  onLatency?(kind: LatencyKind, ms: number): void;
}

export type LatencyKind = 'tick' | 'decision' | 'order';

interface TickTiming {
  receivedAt: number;
  decided: boolean;
}

const SNAPSHOT_EVERY_MS = 250;
const HOUSEKEEPING_MS = 250;
const EQUITY_EVERY_MS = 5_000;
/** More than any shipped strategy's largest warmup (breakout's 500). */
const RECENT_CANDLES = 1_000;
const FLATTEN_TIMEOUT_MS = 30_000;
const FLATTEN_RETRY_MS = 1_000;
const RELOAD_WAIT_MS = 10_000;

interface SymbolState {
  symbol: string;
  strategy: Strategy;
  warmupLeft: number;
  bid: number | null;
  ask: number | null;
  mid: number | null;
  /** The current target after allowShort (null: none yet, or forgotten by a flatten). */
  target: number | null;
  /** The position the target asks for (null until sized: it needs a mid). */
  wanted: number | null;
  reason: string;
}

type Tick =
  | { kind: 'trade'; t: TradeRecord; receivedAt: number | undefined }
  | { kind: 'top'; t: TopOfBookRecord; receivedAt: number | undefined };

interface Waiter {
  resolve(s: TraderSnapshot): void;
  reject(e: Error): void;
}

interface FlattenRun {
  reason: string;
  waiters: Waiter[];
  orderIds: Set<string>;
  retryAt: Map<string, number>;
  lastProblem: string | null;
  deadline: { cancel(): void };
}

interface ReloadRun {
  config: TraderConfig;
  def: StrategyDefinition;
  params: Params;
  resolve(): void;
  reject(e: Error): void;
  timer: { cancel(): void };
}

interface StrategyChoice {
  def: StrategyDefinition;
  params: Params;
}

type BlockingReason = Extract<OpeningBlock, 'person' | 'kill-switch' | 'daily-loss' | 'stale'>;

export class TraderEngine {
  private readonly service: string;
  private readonly clock: Clock;
  private readonly store: TraderStore;
  private readonly execution: ExecutionAdapter;
  private config: TraderConfig;
  private def: StrategyDefinition;
  private params: Params;
  private limits: RiskLimits;
  private account: AccountState;
  private readonly positions = new Map<string, StoredPosition>();
  /** Orders without an outcome, in the order they were created. */
  private readonly open = new Map<string, TraderOrder>();
  private readonly cancelReasons = new Map<string, string>();
  private symbols = new Map<string, SymbolState>();
  private candles: LiveCandles;
  private freshness: Freshness;
  private feedProblem: string | null = null;
  private stale = false;
  private readonly rate = new OrderRate();
  private rateAlerted = false;
  private lastDecision: TraderSnapshot['lastDecision'] = null;
  /** The trade being handled, while it closes a candle: for the decision and order latencies. */
  private timing: TickTiming | null = null;
  private readonly counters = { ticks: 0, decisions: 0, orders: 0, fills: 0, rejected: 0 };
  private reloadRun: ReloadRun | null = null;
  private buffer: Tick[] = [];
  private flat: FlattenRun | null = null;
  private stepping = false;
  private stepAgain = false;
  private started = false;
  private closed = false;
  private readonly timers = new Set<{ cancel(): void }>();
  private candleTimer: { at: number; handle: { cancel(): void } } | null = null;
  private snapshotTimer: { cancel(): void } | null = null;
  private lastEmitAt = -Infinity;

  constructor(private readonly o: EngineOptions) {
    this.service = o.service;
    this.clock = o.clock;
    this.store = o.store;
    this.execution = o.execution;
    const choice = chooseStrategy(o.config);
    if (o.execution.mode !== o.config.mode) {
      throw new Error(
        `the config's mode is ${o.config.mode} but the execution adapter is ${o.execution.mode}`,
      );
    }
    this.config = o.config;
    this.def = choice.def;
    this.params = choice.params;
    this.limits = o.config.limits;
    const now = this.clock.now();
    this.account = newAccount(o.config, now);
    this.candles = new LiveCandles(candleIntervals[o.config.resolution], RECENT_CANDLES);
    this.freshness = new Freshness(o.config.symbols, now, o.config.staleAfterMs);
    for (const symbol of o.config.symbols) this.symbols.set(symbol, this.newSymbol(symbol, null));
    this.execution.setListener({
      accepted: (id) => this.onAccepted(id),
      fill: (f) => this.onFill(f),
      ended: (id, status, reason) => this.onEnded(id, status, reason),
    });
  }

  // ---- lifecycle ----

  start(history: ReadonlyMap<string, readonly StrategyCandle[]>): void {
    if (this.closed) throw new Error('the trader engine is closed');
    if (this.started) throw new Error('the trader engine is already started');
    this.started = true;
    const now = this.clock.now();
    const loaded = this.store.load();
    if (loaded) {
      this.account = { ...loaded.account };
      for (const p of loaded.positions) this.positions.set(p.symbol, { ...p });
      for (const order of loaded.openOrders) this.open.set(order.clientOrderId, { ...order });
    } else {
      this.account = newAccount(this.config, now);
      this.store.init(this.account);
    }
    this.store.saveLimits(this.limits);
    for (const s of this.symbols.values()) this.warm(s, history.get(s.symbol) ?? []);
    this.freshness = new Freshness(this.config.symbols, now, this.config.staleAfterMs);
    this.rollDay();
    for (const order of this.open.values()) {
      this.execution.submit({
        clientOrderId: order.clientOrderId,
        symbol: order.symbol,
        side: order.side,
        // The same order again (a venue knows it by its id), not a new one for the rest.
        qty: order.qty,
        reduceOnly: order.reduceOnly,
      });
    }
    this.every(HOUSEKEEPING_MS, () => {
      this.checkStale();
      this.checkDailyLoss();
    });
    this.every(EQUITY_EVERY_MS, () => this.appendEquity());
    this.checkStale();
    this.dirty();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.candleTimer?.handle.cancel();
    this.candleTimer = null;
    this.snapshotTimer?.cancel();
    this.snapshotTimer = null;
    const gone = new Error('the trader engine was closed');
    if (this.flat) {
      this.flat.deadline.cancel();
      for (const w of this.flat.waiters) w.reject(gone);
      this.flat = null;
    }
    if (this.reloadRun) {
      this.reloadRun.timer.cancel();
      this.reloadRun.reject(gone);
      this.reloadRun = null;
    }
    this.buffer = [];
  }

  // ---- market data ----

  onTrade(t: TradeRecord, receivedAt?: number): void {
    if (!this.live()) return;
    if (!this.symbols.has(t.symbol)) return;
    if (this.reloadRun) {
      this.buffer.push({ kind: 'trade', t, receivedAt });
      return;
    }
    this.handleTrade(t, receivedAt);
  }

  onTop(t: TopOfBookRecord, receivedAt?: number): void {
    if (!this.live()) return;
    if (!this.symbols.has(t.symbol)) return;
    this.execution.onQuote({
      symbol: t.symbol,
      bidPrice: t.bidPrice,
      bidSize: t.bidSize,
      askPrice: t.askPrice,
      askSize: t.askSize,
      at: t.localTs,
    });
    this.freshness.touch(t.symbol, this.clock.now());
    if (this.stale) this.checkStale();
    if (this.reloadRun) {
      this.buffer.push({ kind: 'top', t, receivedAt });
      return;
    }
    this.handleTop(t, receivedAt);
  }

  private mustRun(): void {
    if (!this.started) throw new Error('the trader engine is not started: call start() first');
    if (this.closed) throw new Error('the trader engine is closed');
  }

  private live(): boolean {
    if (!this.started) throw new Error('the trader engine is not started: call start() first');
    return !this.closed;
  }

  private handleTop(t: TopOfBookRecord, receivedAt: number | undefined): void {
    const s = this.symbols.get(t.symbol);
    if (!s) return; // buffered before a reload dropped its symbol
    this.counters.ticks += 1;
    s.bid = t.bidPrice;
    s.ask = t.askPrice;
    s.mid = (t.bidPrice + t.askPrice) / 2;
    const p = this.positions.get(t.symbol);
    if (p && p.qty !== 0) this.checkDailyLoss();
    this.dirty();
    this.reportLatency('tick', receivedAt);
  }

  private handleTrade(t: TradeRecord, receivedAt: number | undefined): void {
    if (!this.symbols.has(t.symbol)) return; // buffered before a reload dropped its symbol
    this.counters.ticks += 1;
    const closed = this.candles.add(t);
    if (closed) {
      this.timing = receivedAt === undefined ? null : { receivedAt, decided: false };
      this.onCandle(closed.symbol, closed.candle);
      if (this.timing?.decided) this.reportLatency('order', receivedAt);
      this.timing = null;
    }
    this.scheduleCandleTimer();
    this.reportLatency('tick', receivedAt);
  }

  private reportLatency(kind: LatencyKind, receivedAt: number | undefined): void {
    if (receivedAt !== undefined && this.o.onLatency) this.o.onLatency(kind, performance.now() - receivedAt);
  }

  private scheduleCandleTimer(): void {
    const due = this.candles.closeDueAt();
    if (this.candleTimer && this.candleTimer.at === due) return;
    this.candleTimer?.handle.cancel();
    this.candleTimer = null;
    if (due === null) return;
    const now = this.clock.now();
    // A candle due already but not closed (the exchange-local offset moved): look again shortly.
    const at = due > now ? due : now + HOUSEKEEPING_MS;
    this.candleTimer = {
      at: due,
      handle: this.clock.setTimeout(() => {
        this.candleTimer = null;
        if (this.closed || this.reloadRun) return; // the reload's replay closes what is due
        this.flushCandles();
      }, at - now),
    };
  }

  private flushCandles(): void {
    for (const c of this.candles.flush(this.clock.now())) this.onCandle(c.symbol, c.candle);
    this.scheduleCandleTimer();
  }

  /** A closed candle: the strategy decides, and an order may go out. */
  private onCandle(symbol: string, candle: StrategyCandle): void {
    const s = this.symbols.get(symbol);
    if (!s) return;
    if (s.warmupLeft > 0) s.warmupLeft -= 1;
    const d = s.strategy.onCandle(candle);
    if (d && Number.isFinite(d.target)) {
      this.counters.decisions += 1;
      const target = Math.max(-1, Math.min(1, d.target));
      this.lastDecision = { symbol, target, reason: d.reason, at: this.clock.now() };
      const effective = this.config.allowShort ? target : Math.max(0, target);
      if (effective !== s.target) {
        s.target = effective;
        s.wanted = null;
        s.reason = d.reason;
      }
      this.dirty();
    }
    this.trySend(s);
  }

  /** Sends the next order toward the symbol's wanted position, if one is due and allowed. */
  private trySend(s: SymbolState): void {
    if (this.flat || this.reloadRun || s.target === null || s.mid === null) return;
    if (s.wanted === null) {
      s.wanted = wantedQty({
        target: s.target,
        equity: this.mark().equity,
        symbols: this.config.symbols.length,
        mid: s.mid,
        allowShort: this.config.allowShort,
        limits: this.limits,
      });
    }
    const reduceOnly = this.blocking().length > 0;
    const q = nextOrderQty({
      wanted: s.wanted,
      projected: this.projected(s.symbol),
      mid: s.mid,
      limits: this.limits,
      reduceOnly,
    });
    if (q === 0) return;
    const now = this.clock.now();
    if (!this.rate.allows(now, this.limits.maxOrdersPerMinute)) {
      if (!this.rateAlerted) {
        this.rateAlerted = true;
        this.alert({
          kind: 'risk',
          severity: 'warning',
          message:
            `${this.limits.maxOrdersPerMinute} orders went out in the last minute, the limit: ` +
            `the ${q > 0 ? 'buy' : 'sell'} of ${fmt(Math.abs(q))} ${s.symbol} waits for a later decision`,
        });
      }
      return;
    }
    this.rateAlerted = false;
    this.placeOrder(s.symbol, q > 0 ? 'buy' : 'sell', Math.abs(q), reduceOnly, s.reason);
  }

  /** Position plus the signed rest of the symbol's open orders. */
  private projected(symbol: string): number {
    let q = this.positions.get(symbol)?.qty ?? 0;
    for (const o of this.open.values()) {
      if (o.symbol === symbol) q += (o.side === 'buy' ? 1 : -1) * (o.qty - o.filledQty);
    }
    return q;
  }

  // ---- orders ----

  private placeOrder(
    symbol: string,
    side: OrderSide,
    qty: number,
    reduceOnly: boolean,
    reason: string,
  ): TraderOrder {
    const now = this.clock.now();
    const n = this.account.nextOrderNo;
    const order: TraderOrder = {
      clientOrderId: `${this.service}-${n}`,
      symbol,
      side,
      qty,
      type: 'market',
      reduceOnly,
      status: 'new',
      filledQty: 0,
      avgFillPrice: null,
      fees: 0,
      reason,
      createdAt: now,
      updatedAt: now,
    };
    if (this.timing && !this.timing.decided) {
      this.timing.decided = true;
      this.reportLatency('decision', this.timing.receivedAt);
    }
    const account = { ...this.account, nextOrderNo: n + 1 };
    this.store.insertOrder(order, account);
    this.account = account;
    this.open.set(order.clientOrderId, order);
    this.rate.record(now);
    this.counters.orders += 1;
    this.dirty();
    this.execution.submit({ clientOrderId: order.clientOrderId, symbol, side, qty, reduceOnly });
    return order;
  }

  private onAccepted(id: string): void {
    if (this.closed) return;
    const order = this.open.get(id);
    if (!order || order.status !== 'new') return;
    const next: TraderOrder = { ...order, status: 'working', updatedAt: this.clock.now() };
    this.store.updateOrder(next);
    this.open.set(id, next);
    this.dirty();
  }

  private onFill(f: ExecutionFill): void {
    if (this.closed) return;
    const order = this.open.get(f.clientOrderId);
    if (!order) return;
    const now = this.clock.now();
    const { position, realizedPnl } = applyFillToPosition(
      this.positions.get(f.symbol) ?? flatPosition(f.symbol),
      f,
    );
    const account = applyFillToAccount(this.account, f, realizedPnl);
    const filledQty = order.filledQty + f.qty;
    const next: TraderOrder = {
      ...order,
      filledQty,
      avgFillPrice: ((order.avgFillPrice ?? 0) * order.filledQty + f.price * f.qty) / filledQty,
      fees: order.fees + f.fee,
      status: filledQty >= order.qty * (1 - 1e-9) ? 'filled' : 'working',
      updatedAt: now,
    };
    const fill = {
      id: f.id,
      clientOrderId: f.clientOrderId,
      symbol: f.symbol,
      side: f.side,
      qty: f.qty,
      price: f.price,
      fee: f.fee,
      realizedPnl,
      ts: f.ts,
    };
    if (!this.store.applyFill(fill, next, position, account)) return;
    this.positions.set(position.symbol, position);
    this.account = account;
    if (next.status === 'filled') this.open.delete(next.clientOrderId);
    else this.open.set(next.clientOrderId, next);
    this.counters.fills += 1;
    this.checkDailyLoss();
    this.afterOrderEvent();
  }

  private onEnded(id: string, status: 'canceled' | 'rejected', reason: string): void {
    if (this.closed) return;
    const order = this.open.get(id);
    if (!order) return;
    const why = this.cancelReasons.get(id) ?? reason;
    this.cancelReasons.delete(id);
    const next: TraderOrder = {
      ...order,
      status,
      reason: `${order.reason} — ${status}: ${why}`,
      updatedAt: this.clock.now(),
    };
    this.store.updateOrder(next);
    this.open.delete(id);
    if (status === 'rejected') this.counters.rejected += 1;
    const f = this.flat;
    if (f && f.orderIds.has(id) && status === 'rejected') {
      f.lastProblem = reason;
      f.retryAt.set(order.symbol, this.clock.now() + FLATTEN_RETRY_MS);
      this.after(FLATTEN_RETRY_MS, () => this.stepFlatten());
    }
    this.afterOrderEvent();
  }

  private afterOrderEvent(): void {
    this.stepFlatten();
    if (this.reloadRun && this.open.size === 0) this.applyReload(false);
    this.dirty();
  }

  // ---- flatten and kill ----

  flatten(): Promise<TraderSnapshot> {
    return this.startFlatten('flatten');
  }

  kill(): Promise<TraderSnapshot> {
    if (!this.started || this.closed) return Promise.reject(new Error('the trader engine is not running'));
    const positions = [...this.positions.values()].filter((p) => p.qty !== 0).length;
    this.setStoppedBy('kill-switch');
    this.alert({
      kind: 'kill-switch',
      severity: 'critical',
      message:
        `kill switch: ${this.open.size} working order(s) canceled, ${positions} position(s) being closed; ` +
        'no new positions until opening is resumed',
    });
    return this.startFlatten('kill switch');
  }

  private startFlatten(reason: string): Promise<TraderSnapshot> {
    if (!this.started || this.closed) return Promise.reject(new Error('the trader engine is not running'));
    return new Promise((resolve, reject) => {
      if (this.flat) {
        this.flat.waiters.push({ resolve, reject });
        return;
      }
      this.flat = {
        reason,
        waiters: [{ resolve, reject }],
        orderIds: new Set(),
        retryAt: new Map(),
        lastProblem: null,
        deadline: this.clock.setTimeout(() => this.flattenTimedOut(), FLATTEN_TIMEOUT_MS),
      };
      for (const s of this.symbols.values()) {
        s.target = null;
        s.wanted = null;
      }
      for (const id of [...this.open.keys()]) {
        this.cancelReasons.set(id, reason);
        this.execution.cancel(id);
      }
      this.stepFlatten();
      this.dirty();
    });
  }

  /** Closes each position whose symbol has no order open; finishes the flatten once all are flat. */
  private stepFlatten(): void {
    if (!this.flat) return;
    // An adapter may call back inside submit: such a nested step only asks for one more pass.
    if (this.stepping) {
      this.stepAgain = true;
      return;
    }
    this.stepping = true;
    try {
      do {
        this.stepAgain = false;
        const f = this.flat;
        if (!f) return;
        const now = this.clock.now();
        let done = this.open.size === 0;
        for (const p of [...this.positions.values()]) {
          if (p.qty === 0) continue;
          done = false;
          if ([...this.open.values()].some((o) => o.symbol === p.symbol)) continue;
          if ((f.retryAt.get(p.symbol) ?? -Infinity) > now) continue;
          const order = this.placeOrder(
            p.symbol,
            p.qty > 0 ? 'sell' : 'buy',
            Math.abs(p.qty),
            true,
            f.reason,
          );
          f.orderIds.add(order.clientOrderId);
        }
        if (done && !this.stepAgain) {
          this.flat = null;
          f.deadline.cancel();
          const snapshot = this.snapshot();
          for (const w of f.waiters) w.resolve(snapshot);
          this.dirty();
        }
      } while (this.stepAgain);
    } finally {
      this.stepping = false;
    }
  }

  private flattenTimedOut(): void {
    const f = this.flat;
    if (!f) return;
    this.flat = null;
    const open = [...this.positions.values()]
      .filter((p) => p.qty !== 0)
      .map((p) => `${p.symbol} ${fmt(p.qty)}`)
      .join(', ');
    const problem = f.lastProblem ? ` (last problem: ${f.lastProblem})` : '';
    const orders = this.open.size > 0 ? `; ${this.open.size} order(s) still open` : '';
    const err = new Error(
      `${f.reason}: not flat after ${FLATTEN_TIMEOUT_MS / 1000} s: ${open || 'no position'}${orders}${problem}`,
    );
    for (const w of f.waiters) w.reject(err);
    this.dirty();
  }

  // ---- control ----

  setLimits(limits: RiskLimits): TraderSnapshot {
    this.mustRun();
    const r = riskLimitsSchema.safeParse(limits);
    if (!r.success) {
      throw new Error(
        'bad risk limits: ' +
          r.error.issues.map((i) => `${i.path.join('.') || '(limits)'} ${i.message}`).join('; '),
      );
    }
    this.limits = r.data;
    this.config = { ...this.config, limits: r.data };
    this.store.saveLimits(r.data);
    this.checkDailyLoss();
    this.dirty();
    return this.snapshot();
  }

  setOpening(allowed: boolean): TraderSnapshot {
    this.mustRun();
    const by = this.account.openingStoppedBy;
    this.setStoppedBy(allowed ? null : by === 'kill-switch' ? 'kill-switch' : 'person');
    return this.snapshot();
  }

  setFeedProblem(problem: string | null): TraderSnapshot {
    this.feedProblem = problem;
    if (this.started) this.checkStale();
    this.dirty();
    return this.snapshot();
  }

  private setStoppedBy(by: AccountState['openingStoppedBy']): void {
    if (this.account.openingStoppedBy === by) return;
    this.account = { ...this.account, openingStoppedBy: by };
    this.store.saveAccount(this.account);
    this.dirty();
  }

  // ---- reload ----

  reload(config: TraderConfig): Promise<void> {
    if (!this.started || this.closed) return Promise.reject(new Error('the trader engine is not running'));
    if (this.reloadRun) return Promise.reject(new Error('a reload is already under way'));
    let choice: StrategyChoice;
    try {
      choice = this.checkReload(config);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return new Promise((resolve, reject) => {
      this.reloadRun = {
        config,
        ...choice,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => this.applyReload(true), RELOAD_WAIT_MS),
      };
      this.dirty();
      if (this.open.size === 0) this.applyReload(false);
    });
  }

  private checkReload(config: TraderConfig): StrategyChoice {
    const choice = chooseStrategy(config);
    if (config.mode !== this.execution.mode) {
      throw new Error(`a reload cannot switch to ${config.mode}: this trader runs ${this.execution.mode}`);
    }
    if (config.venue !== this.config.venue) {
      throw new Error(
        `a reload cannot change the venue (${this.config.venue} → ${config.venue}): stop the trader and start it again`,
      );
    }
    for (const symbol of this.config.symbols) {
      if (config.symbols.includes(symbol)) continue;
      const qty = this.positions.get(symbol)?.qty ?? 0;
      if (qty !== 0) throw new Error(`a reload cannot drop ${symbol}: it holds ${fmt(qty)} (close it first)`);
      if ([...this.open.values()].some((o) => o.symbol === symbol)) {
        throw new Error(`a reload cannot drop ${symbol}: it has orders working`);
      }
    }
    return choice;
  }

  private applyReload(timedOut: boolean): void {
    const r = this.reloadRun;
    if (!r) return;
    r.timer.cancel();
    if (timedOut) {
      this.alert({
        kind: 'reload',
        severity: 'warning',
        message: `reload: ${this.open.size} order(s) still working after ${RELOAD_WAIT_MS / 1000} s; the new parameters apply anyway`,
      });
    }
    const now = this.clock.now();
    const old = this.config;
    const config = r.config;
    this.config = config;
    this.def = r.def;
    this.params = r.params;
    this.limits = config.limits;
    this.store.saveLimits(config.limits);
    if (hasSetCosts(this.execution)) this.execution.setCosts(config.costs);
    this.freshness.setStaleAfter(config.staleAfterMs);
    this.freshness.watch(config.symbols, now);
    if (config.resolution !== old.resolution) {
      this.candles = new LiveCandles(candleIntervals[config.resolution], RECENT_CANDLES);
    }
    const symbols = new Map<string, SymbolState>();
    for (const symbol of config.symbols) {
      const s = this.newSymbol(symbol, this.symbols.get(symbol) ?? null);
      for (const c of this.candles.recent(symbol)) s.strategy.onCandle(c);
      s.warmupLeft = Math.max(0, s.warmupLeft - this.candles.recent(symbol).length);
      symbols.set(symbol, s);
    }
    this.symbols = symbols;
    this.reloadRun = null;
    const buffer = this.buffer;
    this.buffer = [];
    for (const tick of buffer) {
      if (tick.kind === 'trade') this.handleTrade(tick.t, tick.receivedAt);
      else this.handleTop(tick.t, tick.receivedAt);
    }
    this.flushCandles();
    this.checkStale();
    r.resolve();
    this.dirty();
  }

  // ---- symbols and strategies ----

  /** A symbol's state with a fresh strategy (quotes and target kept from `was`). */
  private newSymbol(symbol: string, was: SymbolState | null): SymbolState {
    return {
      symbol,
      strategy: this.def.create(this.params),
      warmupLeft: this.def.warmup(this.params),
      bid: was?.bid ?? null,
      ask: was?.ask ?? null,
      mid: was?.mid ?? null,
      target: was?.target ?? null,
      wanted: was?.wanted ?? null,
      reason: was?.reason ?? '',
    };
  }

  private warm(s: SymbolState, history: readonly StrategyCandle[]): void {
    const taken = this.candles.seed(s.symbol, history);
    for (const c of taken) s.strategy.onCandle(c);
    s.warmupLeft = Math.max(0, s.warmupLeft - taken.length);
  }

  // ---- risk checks ----

  private blocking(): BlockingReason[] {
    const b: BlockingReason[] = [];
    if (this.account.openingStoppedBy === 'person') b.push('person');
    if (this.account.openingStoppedBy === 'kill-switch') b.push('kill-switch');
    if (
      this.account.dailyLossHaltDay !== null &&
      this.account.dailyLossHaltDay === utcDay(this.clock.now())
    ) {
      b.push('daily-loss');
    }
    if (this.stale) b.push('stale');
    return b;
  }

  private blocks(): OpeningBlock[] {
    const b: OpeningBlock[] = this.blocking();
    for (const s of this.symbols.values()) {
      if (s.warmupLeft > 0) {
        b.push('warming');
        break;
      }
    }
    if (this.reloadRun) b.push('reloading');
    return b;
  }

  private mark(): { equity: number; unrealizedPnl: number } {
    return markPortfolio(
      this.account.cash,
      this.positions.values(),
      (symbol) => this.symbols.get(symbol)?.mid ?? null,
    );
  }

  /** A new UTC day: the day starts at the equity of now, and yesterday's loss halt ends. */
  private rollDay(): void {
    const today = utcDay(this.clock.now());
    if (today <= this.account.day) return;
    const halted = this.account.dailyLossHaltDay !== null;
    this.account = {
      ...this.account,
      day: today,
      dayStartEquity: this.mark().equity,
      dailyLossHaltDay: null,
    };
    this.store.saveAccount(this.account);
    if (halted) {
      this.alert({
        kind: 'daily-loss',
        severity: 'critical',
        message: 'a new UTC day: the daily loss halt is over, new positions may open again',
        cleared: true,
      });
    }
    this.dirty();
  }

  private checkDailyLoss(): void {
    this.rollDay();
    if (this.account.dailyLossHaltDay === this.account.day) return;
    const { equity } = this.mark();
    if (!dailyLossHit(this.account.dayStartEquity, equity, this.limits)) return;
    this.account = { ...this.account, dailyLossHaltDay: this.account.day };
    this.store.saveAccount(this.account);
    this.alert({
      kind: 'daily-loss',
      severity: 'critical',
      message:
        `the day's loss ${fmt(this.account.dayStartEquity - equity)} reached the limit ${fmt(this.limits.maxDailyLoss)}: ` +
        'no new positions until the next UTC day (closing still allowed)',
    });
    this.dirty();
  }

  private checkStale(): void {
    const now = this.clock.now();
    const symbols = this.freshness.stale(now);
    const stale = symbols.length > 0 || this.feedProblem !== null;
    if (stale === this.stale) return;
    this.stale = stale;
    if (stale) {
      const why = symbols.map((s) =>
        s.never
          ? `${s.symbol} no top of book yet`
          : `${s.symbol} no top of book for ${fmt(s.forMs / 1000)} s`,
      );
      if (this.feedProblem !== null) why.push(`collector: ${this.feedProblem}`);
      this.alert({
        kind: 'stale',
        severity: 'warning',
        message: `market data stale (${why.join('; ')}): new positions paused`,
      });
    } else {
      this.alert({
        kind: 'stale',
        severity: 'warning',
        message: 'market data fresh again: new positions may open',
        cleared: true,
      });
    }
    this.dirty();
  }

  // ---- output ----

  private alert(a: TraderAlert): void {
    this.o.onAlert?.(a);
  }

  private appendEquity(): void {
    const { equity, unrealizedPnl: unrealized } = this.mark();
    this.store.appendEquity({
      t: this.clock.now(),
      equity,
      realizedPnl: this.account.realizedPnl,
      unrealizedPnl: unrealized,
    });
  }

  /** A snapshot goes out as soon as 250 ms have passed since the last one. */
  private dirty(): void {
    if (!this.o.onSnapshot || this.closed || this.snapshotTimer) return;
    const delay = Math.max(0, this.lastEmitAt + SNAPSHOT_EVERY_MS - this.clock.now());
    this.snapshotTimer = this.clock.setTimeout(() => {
      this.snapshotTimer = null;
      if (this.closed) return;
      this.lastEmitAt = this.clock.now();
      this.o.onSnapshot?.(this.snapshot());
    }, delay);
  }

  private every(ms: number, fn: () => void): void {
    const arm = (): void => {
      this.after(ms, () => {
        fn();
        arm();
      });
    };
    arm();
  }

  private after(ms: number, fn: () => void): void {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(handle);
  }

  snapshot(): TraderSnapshot {
    const now = this.clock.now();
    const { equity, unrealizedPnl: unrealized } = this.mark();
    const positions: TraderPosition[] = [];
    const seen = new Set<string>();
    const add = (p: StoredPosition): void => {
      seen.add(p.symbol);
      const mark = this.symbols.get(p.symbol)?.mid ?? null;
      positions.push({ ...p, mark, unrealizedPnl: unrealizedPnl(p, mark) });
    };
    for (const symbol of this.config.symbols) add(this.positions.get(symbol) ?? flatPosition(symbol));
    for (const p of this.positions.values()) if (!seen.has(p.symbol)) add(p);
    let warmupLeft = 0;
    for (const s of this.symbols.values()) warmupLeft = Math.max(warmupLeft, s.warmupLeft);
    const a = this.account;
    return {
      service: this.service,
      mode: this.config.mode,
      at: now,
      running: true,
      reloading: this.reloadRun !== null,
      blocks: this.blocks(),
      venue: this.config.venue,
      resolution: this.config.resolution,
      strategy: {
        id: this.def.id,
        version: this.def.version,
        params: { ...this.params },
        source: this.config.strategy.source ?? null,
        warmupLeft,
      },
      limits: { ...this.limits },
      account: {
        initialEquity: a.initialEquity,
        cash: a.cash,
        equity,
        realizedPnl: a.realizedPnl,
        unrealizedPnl: unrealized,
        fees: a.fees,
        dayStartEquity: a.dayStartEquity,
        dayPnl: equity - a.dayStartEquity,
      },
      positions,
      workingOrders: [...this.open.values()].map((o) => ({ ...o })),
      feeds: this.config.symbols.map((symbol) => {
        const s = this.symbols.get(symbol);
        return {
          symbol,
          bid: s?.bid ?? null,
          ask: s?.ask ?? null,
          lastAt: this.freshness.lastTop(symbol),
          stale: this.freshness.isStale(symbol, now),
        };
      }),
      feedProblem: this.feedProblem,
      lastDecision: this.lastDecision ? { ...this.lastDecision } : null,
      counters: { ...this.counters },
    };
  }
}

function chooseStrategy(config: TraderConfig): StrategyChoice {
  const def = getStrategy(config.strategy.id);
  return { def, params: parseParams(def, config.strategy.params) };
}

function newAccount(config: TraderConfig, now: number): AccountState {
  return {
    initialEquity: config.equity,
    cash: config.equity,
    realizedPnl: 0,
    fees: 0,
    day: utcDay(now),
    dayStartEquity: config.equity,
    openingStoppedBy: null,
    dailyLossHaltDay: null,
    nextOrderNo: 1,
  };
}

function hasSetCosts(e: ExecutionAdapter): e is ExecutionAdapter & { setCosts(c: PaperCosts): void } {
  return typeof (e as Partial<{ setCosts: unknown }>).setCosts === 'function';
}
