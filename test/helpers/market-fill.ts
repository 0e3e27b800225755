/**
 * A week (or any span) of one binance-usdm instrument in `market/binance-usdm.db`, written by the
 * collectors' own recorder at live-like rates: a trade every `tradeEveryMs` (so 1 s and 1 m candles),
 * funding (the mark price stream) every second, open interest every 10 s, a long/short ratio and a
 * liquidation every 5 minutes. For tests and benches that need a big file to read.
 */
import { MarketRecorder } from '../../src/services/collector/recorder';

const MIN = 60_000;

export interface MarketFill {
  dataDir: string;
  symbol: string;
  from: number;
  to: number;
  /** Default 1000 (one trade a second). */
  tradeEveryMs?: number;
}

/** Writes the rows and returns how many. */
export function fillUsdm({ dataDir, symbol, from, to, tradeEveryMs = 1000 }: MarketFill): number {
  const r = MarketRecorder.open({
    dataDir,
    venue: 'binance-usdm',
    retentionDays: 30,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
  const base = { venue: 'binance-usdm' as const, symbol };
  let rows = 0;
  let id = 0;
  try {
    for (let hour = from; hour < to; hour += 60 * MIN) {
      const end = Math.min(hour + 60 * MIN, to);
      for (let ts = hour; ts < end; ts += tradeEveryMs) {
        const price = 100 + Math.sin(ts / 3_600_000) * 10 + (id % 7) / 100;
        r.addTrade({
          ...base,
          type: 'trade',
          id: String(++id),
          exchangeTs: ts,
          localTs: ts + 3,
          price,
          size: 0.1 + (id % 5) / 10,
          side: id % 3 === 0 ? 'sell' : 'buy',
        });
        rows += 1;
      }
      for (let ts = hour; ts < end; ts += 1000) {
        r.addFunding({
          ...base,
          type: 'funding',
          exchangeTs: ts,
          localTs: ts,
          rate: 0.0001 + (ts % 1000_000) * 1e-12,
          nextFundingTime: ts + 8 * 60 * MIN,
          markPrice: 100,
        });
        rows += 1;
      }
      for (let ts = hour; ts < end; ts += 10_000) {
        r.addOpenInterest({
          ...base,
          type: 'oi',
          exchangeTs: ts,
          localTs: ts,
          openInterest: 1000 + ts / 1e9,
        });
        rows += 1;
      }
      for (let ts = hour; ts < end; ts += 5 * MIN) {
        r.addLongShort({
          ...base,
          type: 'lsr',
          exchangeTs: ts,
          localTs: ts,
          period: '5m',
          ratio: 1.2,
          longAccount: 0.55,
          shortAccount: 0.45,
        });
        r.addLiquidation({
          ...base,
          type: 'liquidation',
          exchangeTs: ts + 2000,
          localTs: ts + 2000,
          side: ts % 2 ? 'buy' : 'sell',
          price: 100,
          size: 1,
          partial: true,
        });
        rows += 2;
      }
      r.flush();
    }
  } finally {
    r.close();
  }
  return rows;
}
