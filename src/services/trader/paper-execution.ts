/**
 * Paper execution: an ExecutionAdapter that fills market orders against the live top of book, with the
 * same costs the backtester charges (src/services/optimizer/backtest.ts):
 *
 * - an order is acknowledged (`accepted`) at once, on the next timer turn (never inside `submit`);
 * - `latencyMs` after `submit` it reaches the market and fills whole at the top of book then: a buy
 *   at ask × (1 + slippageBps / 10 000), a sell at bid × (1 − slippageBps / 10 000), fee =
 *   feeBps / 10 000 × the fill's notional. Its one fill's id is `<clientOrderId>:1`;
 * - no quote for the symbol then → rejected ("no quote for X"); a quote's sizes are not a limit (a
 *   paper order is assumed small next to the book);
 * - idempotent by clientOrderId: submitting an id this adapter already knows does nothing (a restart
 *   makes a new adapter, which knows none, so orders recorded without an outcome fill then);
 * - `cancel` before the fill stops it (`ended` canceled, on the next timer turn); after, nothing.
 *
 * Every callback goes through the clock, so a test's fake clock orders them.
 */
import type { Clock, ExecutionAdapter, ExecutionListener, OrderRequest, Quote } from './types';

export interface PaperCosts {
  feeBps: number;
  slippageBps: number;
  latencyMs: number;
}

export interface PaperExecution extends ExecutionAdapter {
  readonly mode: 'paper';
  /** New costs for orders submitted from now on (a reload's new config). */
  setCosts(costs: PaperCosts): void;
}

interface PaperOrder {
  request: OrderRequest;
  timers: { cancel(): void }[];
  done: boolean;
}

export function createPaperExecution(o: { clock: Clock; costs: PaperCosts }): PaperExecution {
  const { clock } = o;
  let costs = checkCosts(o.costs);
  let listener: ExecutionListener | null = null;
  const quotes = new Map<string, Quote>();
  const orders = new Map<string, PaperOrder>();
  let closed = false;

  const later = (order: PaperOrder, ms: number, fn: (l: ExecutionListener) => void): void => {
    order.timers.push(
      clock.setTimeout(() => {
        if (!closed && listener) fn(listener);
      }, ms),
    );
  };

  const finish = (order: PaperOrder): void => {
    order.done = true;
    for (const t of order.timers) t.cancel();
    order.timers.length = 0;
  };

  return {
    mode: 'paper',
    setListener(l) {
      listener = l;
    },
    setCosts(c) {
      costs = checkCosts(c);
    },
    submit(request) {
      if (closed) throw new Error('paper execution: submit after close');
      if (!listener) throw new Error('paper execution: setListener before submitting orders');
      if (!(request.qty > 0) || !Number.isFinite(request.qty)) {
        throw new RangeError(
          `paper execution: order ${request.clientOrderId} qty must be > 0, not ${request.qty}`,
        );
      }
      if (orders.has(request.clientOrderId)) return;
      const order: PaperOrder = { request: { ...request }, timers: [], done: false };
      orders.set(request.clientOrderId, order);
      const { feeBps, slippageBps, latencyMs } = costs;
      later(order, 0, (l) => l.accepted(request.clientOrderId));
      later(order, latencyMs, (l) => {
        finish(order);
        const q = quotes.get(request.symbol);
        if (!q) {
          l.ended(request.clientOrderId, 'rejected', `no quote for ${request.symbol}`);
          return;
        }
        const slip = slippageBps / 10_000;
        const price = request.side === 'buy' ? q.askPrice * (1 + slip) : q.bidPrice * (1 - slip);
        l.fill({
          id: `${request.clientOrderId}:1`,
          clientOrderId: request.clientOrderId,
          symbol: request.symbol,
          side: request.side,
          qty: request.qty,
          price,
          fee: (request.qty * price * feeBps) / 10_000,
          ts: clock.now(),
        });
      });
    },
    cancel(clientOrderId) {
      const order = orders.get(clientOrderId);
      if (!order || order.done || closed) return;
      finish(order);
      clock.setTimeout(() => {
        if (!closed && listener) listener.ended(clientOrderId, 'canceled', 'canceled before it filled');
      }, 0);
    },
    onQuote(quote) {
      quotes.set(quote.symbol, quote);
    },
    inFlight() {
      let n = 0;
      for (const order of orders.values()) if (!order.done) n += 1;
      return n;
    },
    close() {
      closed = true;
      for (const order of orders.values()) finish(order);
    },
  };
}

function checkCosts(c: PaperCosts): PaperCosts {
  for (const k of ['feeBps', 'slippageBps', 'latencyMs'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] >= 0))
      throw new RangeError(`paper execution: costs.${k} must be 0 or more, not ${c[k]}`);
  }
  return { ...c };
}
