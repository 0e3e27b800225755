/**
 * The simulated Binance USD-M futures venue: its streams split by path as since March 2026 (`/public`
 * carries only the book streams, `/market` the rest; the legacy root answers 404), diff depth that
 * chains through `pu`, mark price and funding, sampled liquidations, and the REST endpoints for depth,
 * open interest and the long/short account ratio. The server machinery is shared with spot.
 */
import { BinanceServer, RestError, intParam, requireSymbol, type VenueServerOptions } from './binance-spot';
import type { Liquidation } from './market';

const DEPTH_SPEEDS: Record<string, number> = { depth: 250, 'depth@100ms': 100, 'depth@500ms': 500 };
const PUBLIC_KINDS = new Set([...Object.keys(DEPTH_SPEEDS), 'bookTicker']);
const MARKET_KINDS = new Set(['aggTrade', 'markPrice', 'markPrice@1s', 'forceOrder']);
const DEPTH_LIMITS = new Set([5, 10, 20, 50, 100, 500, 1000]);
const PERIODS: Record<string, number> = {
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
};
const THIRTY_DAYS = 30 * 86_400_000;

function depthWeight(limit: number): number {
  if (limit <= 50) return 2;
  if (limit <= 100) return 5;
  if (limit <= 500) return 10;
  return 20;
}

export async function startUsdmServer(
  options: VenueServerOptions,
): Promise<{ server: BinanceServer; port: number }> {
  const markets = options.markets;
  const server = new BinanceServer({
    venue: 'binance-usdm',
    host: options.host,
    port: options.port,
    markets,
    limits: options.limits,
    control: options.control,
    areas: {
      '/public': {
        kinds: PUBLIC_KINDS,
        wrongPath: (kind) => `stream type ${kind} is not served on /public; connect to /market`,
      },
      '/market': {
        kinds: MARKET_KINDS,
        wrongPath: (kind) => `stream type ${kind} is not served on /market; connect to /public`,
      },
    },
    routes: {
      '/fapi/v1/ping': () => ({ body: {} }),
      '/fapi/v1/time': (_query, now) => ({ body: { serverTime: now } }),
      '/fapi/v1/depth': (query, now) => {
        const market = requireSymbol(query, markets);
        const limit = intParam(query, 'limit') ?? 500;
        if (!DEPTH_LIMITS.has(limit)) {
          throw new RestError(
            400,
            -1100,
            "Illegal value for parameter 'limit'; valid limits are 5, 10, 20, 50, 100, 500, 1000.",
          );
        }
        const snap = market.snapshot(limit);
        return {
          body: { lastUpdateId: snap.lastUpdateId, E: now, T: snap.time, bids: snap.bids, asks: snap.asks },
          weight: depthWeight(limit),
        };
      },
      '/fapi/v1/openInterest': (query, now) => {
        const market = requireSymbol(query, markets);
        return { body: { openInterest: market.openInterest(), symbol: market.symbol, time: now } };
      },
      '/fapi/v1/premiumIndex': (query, now) => {
        const list = query.get('symbol') === null ? [...markets.values()] : [requireSymbol(query, markets)];
        const rows = list.map((market) => {
          const mark = market.markPrice(now);
          return {
            symbol: market.symbol,
            markPrice: mark.mark,
            indexPrice: mark.index,
            estimatedSettlePrice: mark.settle,
            lastFundingRate: mark.fundingRate,
            interestRate: '0.00010000',
            nextFundingTime: mark.nextFundingTime,
            time: now,
          };
        });
        return { body: query.get('symbol') === null ? rows : rows[0], weight: 1 };
      },
      '/futures/data/globalLongShortAccountRatio': (query, now) => {
        const market = requireSymbol(query, markets);
        const period = query.get('period');
        if (period === null || period === '') {
          throw new RestError(
            400,
            -1102,
            "Mandatory parameter 'period' was not sent, was empty/null, or malformed.",
          );
        }
        const step = PERIODS[period];
        if (step === undefined) {
          throw new RestError(400, -1100, `Illegal value for parameter 'period': ${period}.`);
        }
        const limit = intParam(query, 'limit') ?? 30;
        if (limit < 1 || limit > 500) {
          throw new RestError(
            400,
            -1100,
            "Illegal value for parameter 'limit'; it must be between 1 and 500.",
          );
        }
        const startTime = intParam(query, 'startTime');
        const endTime = intParam(query, 'endTime');
        // Rows are published per period, only for the last 30 days, oldest first.
        const latest = Math.floor(Math.min(endTime ?? now, now) / step) * step;
        const oldest = Math.max(startTime ?? 0, now - THIRTY_DAYS);
        const rows = [];
        for (let t = latest; t >= oldest && rows.length < limit; t -= step) {
          rows.push({ symbol: market.symbol, ...market.longShortAt(t), timestamp: String(t) });
        }
        return { body: rows.reverse(), weight: 0 };
      },
      '/fapi/v1/exchangeInfo': (_query, now) => ({
        body: {
          timezone: 'UTC',
          serverTime: now,
          futuresType: 'U_MARGINED',
          rateLimits: [
            { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
            { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
            { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
          ],
          exchangeFilters: [],
          assets: [],
          symbols: [...markets.values()].map((m) => ({
            symbol: m.symbol,
            pair: m.symbol,
            contractType: 'PERPETUAL',
            status: 'TRADING',
            baseAsset: m.spec.baseAsset,
            quoteAsset: m.spec.quoteAsset,
            marginAsset: m.spec.quoteAsset,
            pricePrecision: m.spec.priceDecimals,
            quantityPrecision: m.spec.sizeDecimals,
            filters: [
              {
                filterType: 'PRICE_FILTER',
                minPrice: m.price(1),
                maxPrice: m.price(10 ** (m.spec.priceDecimals + 7)),
                tickSize: m.price(1),
              },
              { filterType: 'LOT_SIZE', minQty: m.size(1), maxQty: '1000', stepSize: m.size(1) },
            ],
          })),
        },
        weight: 1,
      }),
    },
  });

  // Binance pushes only the latest liquidation per symbol per second: a sample, not a tape.
  const latestLiquidation = new Map<string, Liquidation>();

  for (const market of markets.values()) {
    const lower = market.symbol.toLowerCase();
    market.listener = {
      onFill: (fill) => {
        const stream = `${lower}@aggTrade`;
        if (!server.hasSubscribers(stream)) return;
        server.publish(
          stream,
          JSON.stringify({
            e: 'aggTrade',
            E: Date.now(),
            s: market.symbol,
            a: fill.aggId,
            p: fill.price,
            q: fill.size,
            f: fill.firstTradeId,
            l: fill.lastTradeId,
            T: fill.time,
            m: fill.side === 'sell',
          }),
        );
      },
      onTop: () => {
        const stream = `${lower}@bookTicker`;
        if (!server.hasSubscribers(stream)) return;
        const top = market.top();
        const now = Date.now();
        server.publish(
          stream,
          JSON.stringify({
            e: 'bookTicker',
            u: top.updateId,
            E: now,
            T: now,
            s: market.symbol,
            b: top.bid[0],
            B: top.bid[1],
            a: top.ask[0],
            A: top.ask[1],
          }),
        );
      },
      onLiquidation: (liquidation) => latestLiquidation.set(market.symbol, liquidation),
    };
  }

  for (const [kind, interval] of Object.entries(DEPTH_SPEEDS)) {
    for (const market of markets.values()) market.openDepthStream(kind);
    server.every(options.depthIntervalMs ?? interval, () => {
      const now = Date.now();
      for (const market of markets.values()) {
        const diff = market.takeDepth(kind);
        const stream = `${market.symbol.toLowerCase()}@${kind}`;
        if (!diff || !server.hasSubscribers(stream)) continue;
        server.publish(
          stream,
          JSON.stringify({
            e: 'depthUpdate',
            E: now,
            T: diff.T,
            s: market.symbol,
            U: diff.U,
            u: diff.u,
            pu: diff.pu,
            b: diff.b,
            a: diff.a,
          }),
        );
      }
    });
  }

  let seconds = 0;
  server.every(1000, () => {
    const now = Date.now();
    seconds += 1;
    for (const market of markets.values()) {
      const lower = market.symbol.toLowerCase();
      const fast = `${lower}@markPrice@1s`;
      const slow = `${lower}@markPrice`;
      const due = seconds % 3 === 0;
      if (server.hasSubscribers(fast) || (due && server.hasSubscribers(slow))) {
        const mark = market.markPrice(now);
        const payload = JSON.stringify({
          e: 'markPriceUpdate',
          E: now,
          s: market.symbol,
          p: mark.mark,
          i: mark.index,
          P: mark.settle,
          r: mark.fundingRate,
          T: mark.nextFundingTime,
        });
        server.publish(fast, payload);
        if (due) server.publish(slow, payload);
      }

      const liquidation = latestLiquidation.get(market.symbol);
      if (!liquidation) continue;
      latestLiquidation.delete(market.symbol);
      server.publish(
        `${lower}@forceOrder`,
        JSON.stringify({
          e: 'forceOrder',
          E: now,
          o: {
            s: market.symbol,
            S: liquidation.side,
            o: 'LIMIT',
            f: 'IOC',
            q: liquidation.quantity,
            p: liquidation.price,
            ap: liquidation.averagePrice,
            X: 'FILLED',
            l: liquidation.quantity,
            z: liquidation.quantity,
            T: liquidation.time,
          },
        }),
      );
    }
  });

  const port = await server.listen();
  return { server, port };
}
