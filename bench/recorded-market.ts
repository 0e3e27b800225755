/**
 * A market the optimizer can search, as a collector would have recorded it: BTCUSDT trades on
 * binance-usdm every 20 s from `from` for `days`, a sine of a few hours with small ripples (so
 * averages cross and breakouts happen), written to `<dataDir>/market/binance-usdm.db`.
 */
import { MarketRecorder } from '../src/services/collector/recorder';

const MIN = 60_000;

export function recordMarket(dataDir: string, from: number, days: number): void {
  const recorder = MarketRecorder.open({
    dataDir,
    venue: 'binance-usdm',
    retentionDays: 3650,
    flushIntervalMs: 0,
    pruneIntervalMs: 0,
    checkpointThread: false,
  });
  for (let ts = from, id = 0; ts < from + days * 1440 * MIN; ts += 20_000) {
    recorder.addTrade({
      type: 'trade',
      venue: 'binance-usdm',
      symbol: 'BTCUSDT',
      id: String(++id),
      exchangeTs: ts,
      localTs: ts,
      price: 100 + 10 * Math.sin(ts / 7_200_000) + (id % 11) / 10,
      size: 1,
      side: id % 2 ? 'buy' : 'sell',
    });
    if (id % 5000 === 0) recorder.flush();
  }
  recorder.close();
}
