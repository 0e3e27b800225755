/**
 * The candles a trader warms its strategies on at start: each symbol's most recent closed candles at
 * the trader's resolution, read (read-only) from the collector's `market/<venue>.db`, oldest first.
 * Nothing recorded (no file, an unreadable one, a symbol never recorded) is not an error: the trader
 * then warms up live from trades, and the log says so.
 *
 * A candle counts as closed once its interval ended SETTLE_MS ago (the recorder writes every 250 ms,
 * so its last trades are in the file by then). Only recent history is used, `count` intervals × 4
 * back (quiet intervals have no candle), and never across a recorded gap of the symbol's trades: a
 * strategy warmed across a hole is not the one that would have traded, so only the candles after the
 * latest gap are kept.
 */
import { existsSync } from 'node:fs';
import type { Venue } from '../../shared/market';
import { alignStart, candleIntervals, type CandleResolution } from '../collector/candles';
import { marketDbPath } from '../collector/market-db';
import { MarketReader } from '../collector/market-reader';
import type { StrategyCandle } from '../strategies';

export const SETTLE_MS = 500;
const LOOKBACK_FACTOR = 4;

export interface WarmupRequest {
  /** The folder holding `market/<venue>.db` (null: none, warm up live). */
  dataDir: string | null;
  venue: Venue;
  symbols: readonly string[];
  resolution: CandleResolution;
  /** Candles wanted per symbol (the strategy's warmup). */
  count: number;
  now: number;
  nativeBinding?: string;
}

export interface Warmup {
  history: Map<string, StrategyCandle[]>;
  /** What was loaded or why not, one line per fact, for the log. */
  notes: string[];
}

export function loadWarmup(req: WarmupRequest): Warmup {
  const history = new Map<string, StrategyCandle[]>();
  const notes: string[] = [];
  if (req.count <= 0) return { history, notes: ['the strategy needs no warmup'] };
  if (req.dataDir === null) return { history, notes: ['no data directory: warming up live from trades'] };
  const file = marketDbPath(req.dataDir, req.venue);
  if (!existsSync(file)) {
    notes.push(`no recorded ${req.venue} data (${file} does not exist): warming up live from trades`);
    return { history, notes };
  }
  let reader: MarketReader;
  try {
    reader = MarketReader.open(file, req.nativeBinding ? { nativeBinding: req.nativeBinding } : {});
  } catch (error) {
    notes.push(`cannot read ${file}, warming up live from trades: ${(error as Error).message}`);
    return { history, notes };
  }
  try {
    const intervalMs = candleIntervals[req.resolution];
    // Candle starts before `to`: those whose interval ended SETTLE_MS ago or earlier.
    const to = alignStart(req.now - SETTLE_MS, intervalMs);
    const from = to - req.count * LOOKBACK_FACTOR * intervalMs;
    for (const symbol of req.symbols) {
      let candles = reader.candles(symbol, req.resolution, from, to);
      const gap = reader
        .gaps({ symbol, from, to })
        .filter((g) => g.symbol === null || g.stream === 'trade')
        .at(-1);
      if (gap) {
        // Candles from the interval after the one the gap ended in (an open gap: none at all).
        const after = gap.end === null ? Infinity : alignStart(gap.end, intervalMs) + intervalMs;
        candles = candles.filter((c) => c.start >= after);
        notes.push(
          `${symbol}: a recorded gap (${gap.cause}${gap.end === null ? ', still open' : ''}) cuts the history: ` +
            `only the candles after it are used`,
        );
      }
      const last = candles.slice(-req.count).map((c): StrategyCandle => ({
        start: c.start,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        trades: c.trades,
      }));
      history.set(symbol, last);
      notes.push(
        `${symbol}: ${last.length} of ${req.count} ${req.resolution} warmup candles from ${req.venue} history` +
          (last.length < req.count ? '; the rest come live from trades' : ''),
      );
    }
  } catch (error) {
    notes.push(`reading ${file} failed, warming up live from trades: ${(error as Error).message}`);
    history.clear();
  } finally {
    reader.close();
  }
  return { history, notes };
}
