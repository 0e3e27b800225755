/**
 * The data a backtest runs on: one symbol's recorded candles from `<dataDir>/market/<venue>.db`, and
 * the gaps of the gap ledger that the range crosses. A range that crosses a gap is refused (a
 * DatasetError naming each gap: when, which stream, why) unless `allowGaps`; then the result lists
 * the gaps crossed, for the run to carry. An empty range is refused too.
 *
 *   loadDataset({ dataDir, venue, symbol, resolution, from, to, warmupCandles?, allowGaps?, now? })
 *     → Dataset { venue, symbol, resolution, intervalMs, from, to, startAt, candles, gaps }
 *   readDataset(reader, request)   the same on a MarketReader already open
 *   DatasetError { code: 'bad-request' | 'no-database' | 'empty' | 'gaps', gaps }
 *
 * Which gaps count: candles are built from trades alone, so those of the symbol's `trade` stream and
 * those of whole connections (symbol null: a dropped connection loses every stream it carried). A
 * symbol's book, funding or long/short gaps leave its candles whole and are not counted.
 *
 * Ranges are half-open, [from, to), over candle starts, in exchange epoch ms. `warmupCandles` more
 * candles' worth of time before `from` is read for the strategy's warmup (pass it as the backtest's
 * `startAt = from`); gaps are checked over that too, since a strategy warmed up across a hole is
 * not the one that would have traded. Only closed candles are used: those that ended SETTLE_MS before
 * `now` (default: the clock), as trades still land in the current one.
 */
import { existsSync } from 'node:fs';
import { venues, type Venue } from '../../shared/market';
import { candleIntervals, type Candle, type CandleResolution } from '../collector/candles';
import { marketDbPath } from '../collector/market-db';
import { MarketReader, type StoredGap } from '../collector/market-reader';

/** A candle counts once its interval ended this long ago: trades of it may still be on their way. */
export const SETTLE_MS = 5_000;

export interface DatasetRequest {
  venue: Venue;
  symbol: string;
  resolution: CandleResolution;
  from: number;
  to: number;
  /** Candles' worth of time to read before `from`, for the strategy's warmup. Default 0. */
  warmupCandles?: number;
  /** Run across recorded gaps instead of refusing (they are still returned). */
  allowGaps?: boolean;
  /** Epoch ms taken as now (default Date.now()): candles not closed by then are left out. */
  now?: number;
}

export interface DatasetFiles {
  /** The folder holding `market/<venue>.db`. */
  dataDir: string;
  /** better-sqlite3's addon for this runtime (default: the Electron build inside Electron). */
  nativeBinding?: string;
}

export interface Dataset {
  venue: Venue;
  symbol: string;
  resolution: CandleResolution;
  intervalMs: number;
  /** The range asked, `to` cut back to the last closed candle. */
  from: number;
  to: number;
  /** Where measuring starts (= from); candles before it are warmup. */
  startAt: number;
  /** Oldest first; the first ones start before `startAt` when warmup was asked. */
  candles: Candle[];
  /** Gaps crossed (empty unless allowGaps), oldest first. */
  gaps: StoredGap[];
}

export type DatasetErrorCode = 'bad-request' | 'no-database' | 'empty' | 'gaps';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  constructor(
    readonly code: DatasetErrorCode,
    message: string,
    /** With code 'gaps': the gaps the range crosses. */
    readonly gaps: readonly StoredGap[] = [],
  ) {
    super(message);
  }
}

/** Opens the venue's market database read-only, reads the dataset, closes it. */
export function loadDataset(files: DatasetFiles, req: DatasetRequest): Dataset {
  checkRequest(req);
  const file = marketDbPath(files.dataDir, req.venue);
  if (!existsSync(file)) {
    throw new DatasetError(
      'no-database',
      `nothing recorded for ${req.venue}: there is no ${file} (a collector for ${req.venue} creates it when it records)`,
    );
  }
  const reader = MarketReader.open(file, files.nativeBinding ? { nativeBinding: files.nativeBinding } : {});
  try {
    return readDataset(reader, req);
  } finally {
    reader.close();
  }
}

export function readDataset(reader: MarketReader, req: DatasetRequest): Dataset {
  checkRequest(req);
  const { venue, symbol, resolution, from } = req;
  const intervalMs = candleIntervals[resolution];
  const closedBefore = Math.floor(((req.now ?? Date.now()) - SETTLE_MS) / intervalMs) * intervalMs;
  const to = Math.min(req.to, closedBefore);
  const readFrom = from - (req.warmupCandles ?? 0) * intervalMs;
  const range = `[${iso(from)}, ${iso(req.to)})`;

  if (to <= from) {
    throw new DatasetError(
      'empty',
      `no closed ${resolution} candles of ${symbol} on ${venue} in ${range}: the range has not ended yet`,
    );
  }
  const candles = reader.candles(symbol, resolution, readFrom, to);
  if (!candles.some((c) => c.start >= from)) {
    const recorded = reader.symbols();
    throw new DatasetError(
      'empty',
      `no ${resolution} candles of ${symbol} on ${venue} in ${range}` +
        (recorded.includes(symbol)
          ? ''
          : `: ${symbol} was never recorded there (recorded: ${recorded.join(', ') || 'nothing'})`),
    );
  }

  // Gaps overlapping the range read (an open one runs until now), that candles depend on.
  const gaps = reader
    .gaps({ symbol, from: readFrom, to })
    .filter((g) => g.symbol === null || g.stream === 'trade');
  if (gaps.length > 0 && !req.allowGaps) {
    throw new DatasetError(
      'gaps',
      `${symbol} on ${venue} ${range}${readFrom < from ? ` (with ${req.warmupCandles} warmup candles)` : ''} ` +
        `crosses ${gaps.length} recorded gap${gaps.length === 1 ? '' : 's'}: ${gaps.map(describeGap).join('; ')}. ` +
        'Choose a range without them, or allow gaps to run across them.',
      gaps,
    );
  }
  return { venue, symbol, resolution, intervalMs, from, to, startAt: from, candles, gaps };
}

/** "2026-03-03T09:00:00.000Z → 09:05:00.000Z, stream binance-usdm/0 (whole connection), disconnect: …" */
export function describeGap(g: StoredGap): string {
  const end = g.end === null ? 'still open' : iso(g.end);
  const scope =
    g.symbol === null ? `stream ${g.stream} (whole connection)` : `stream ${g.symbol} ${g.stream}`;
  return `${iso(g.start)} → ${end}, ${scope}, ${g.cause}${g.detail ? `: ${g.detail}` : ''}`;
}

function checkRequest(req: DatasetRequest): void {
  const bad = (why: string): never => {
    throw new DatasetError('bad-request', why);
  };
  if (!(venues as readonly string[]).includes(req.venue))
    bad(`unknown venue "${req.venue}" (one of ${venues.join(', ')})`);
  if (typeof req.symbol !== 'string' || req.symbol === '') bad('a symbol is needed');
  if (!Object.hasOwn(candleIntervals, req.resolution)) {
    bad(`unknown resolution "${req.resolution}" (one of ${Object.keys(candleIntervals).join(', ')})`);
  }
  if (!Number.isFinite(req.from) || !Number.isFinite(req.to)) bad(`from and to must be times (epoch ms)`);
  if (req.to <= req.from)
    bad(`the range must end after it starts (from ${iso(req.from)}, to ${iso(req.to)})`);
  const w = req.warmupCandles;
  if (w !== undefined && !(Number.isInteger(w) && w >= 0))
    bad(`warmupCandles must be a whole number ≥ 0, not ${w}`);
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
