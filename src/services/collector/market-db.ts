/**
 * Opening a market database, `<dataDir>/market/<venue>.db`, by the rules every Vigil database follows
 * (src/services/sqlite): the header is checked before SQLite sees the file, a newer schema is refused
 * before anything is written, a damaged file gets a MarketDbError that names the file and the way
 * forward (move it aside and start fresh), never a silent wipe. One collector writes a file (the
 * venue is claimed in it); the optimizer and the UI read it at the same time (WAL).
 */
import { basename, join, resolve } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import type { Venue } from '../../shared/market';
import { asideName, moveAside } from '../sqlite/db-file';
import { dbErrors, DbFileError, type DbErrorCode } from '../sqlite/errors';
import type { Migration } from '../sqlite/migrations';
import { openOwnedDb } from '../sqlite/open-db';

export type MarketDbErrorCode = DbErrorCode;

export class MarketDbError extends DbFileError {
  override readonly name = 'MarketDbError';
}

export const marketErrors = dbErrors<MarketDbError>(
  {
    create: (code, file, problem, wayForward, cause) =>
      new MarketDbError(code, file, problem, wayForward, { cause }),
    moveAside: (file) =>
      `To start fresh, stop the collector and move the file aside with its -wal and -shm files ` +
      `(e.g. to ${basename(asideName(file))}), then start the collector again: it creates a new file, and ` +
      `the moved one keeps what was recorded.`,
    locked:
      'Only one collector may record a venue: stop the other one (or the database tool holding the file), ' +
      'then start this collector again.',
    restart: 'start the collector again',
    schema: 'market schema',
  },
  (error): error is MarketDbError => error instanceof MarketDbError,
);

/** Maps what SQLite, the addon or the file system threw to a MarketDbError about `file`. */
export const toMarketDbError = marketErrors.from;

/** Moves a market database and its WAL aside (kept, renamed); returns the new path. */
export function moveMarketDbAside(path: string, now: Date = new Date()): string {
  return moveAside(path, marketErrors, now);
}

// ---------------------------------------------------------------------------------------------------
// Schema

/*
 * Layout notes:
 * - Times are epoch ms (exchange time; trades also keep the local receive time).
 * - Every market table is keyed by (symbol, time, ...) WITHOUT ROWID: one b-tree per table, read as
 *   one symbol's time range, pruned from each symbol's front. (A rowid table with UNIQUE (symbol, id)
 *   and an index on (symbol, ts) updates three b-trees per trade: measured 1.45× the write time and
 *   1.3× the WAL.) Each batch rewrites a leaf page per active symbol and table: ~0.5 MB of WAL per
 *   batch of 1,250 trades over 20 symbols, ~2.6 MB over 200, which is why writes are batched and why
 *   checkpoints run on their own thread (below).
 * - trades: the key (symbol, ts, id) makes a re-delivered trade (a reconnect's overlap: same id, same
 *   exchange time) a no-op.
 * - Candles keep the exchange times of their first and last trade so fragments merge into the right
 *   open and close whatever order they arrive in.
 * - liquidations are exchange samples, never a complete tape (Binance: the latest per symbol per
 *   second); identical rows (a reconnect's repeat) are stored once.
 * - gaps: the gap ledger; `end` is null while the gap is open. A gap with a null symbol covers every
 *   symbol of its connection.
 * - STRICT tables: a wrong type is an error at the write, not a surprise at a read years later.
 */
const candleTable = (name: string): string => `
  CREATE TABLE ${name} (
    symbol TEXT NOT NULL,
    start INTEGER NOT NULL,
    open REAL NOT NULL,
    high REAL NOT NULL,
    low REAL NOT NULL,
    close REAL NOT NULL,
    volume REAL NOT NULL,
    buy_volume REAL NOT NULL,
    trades INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (symbol, start)
  ) STRICT, WITHOUT ROWID;`;

const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial market schema',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;

        CREATE TABLE trades (
          symbol TEXT NOT NULL,
          id TEXT NOT NULL,
          ts INTEGER NOT NULL,
          local_ts INTEGER NOT NULL,
          price REAL NOT NULL,
          size REAL NOT NULL,
          side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
          PRIMARY KEY (symbol, ts, id)
        ) STRICT, WITHOUT ROWID;

        ${candleTable('candles_1s')}
        ${candleTable('candles_1m')}

        CREATE TABLE funding (
          symbol TEXT NOT NULL,
          ts INTEGER NOT NULL,
          rate REAL NOT NULL,
          next_funding_time INTEGER NOT NULL,
          mark_price REAL,
          index_price REAL,
          PRIMARY KEY (symbol, ts)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE open_interest (
          symbol TEXT NOT NULL,
          ts INTEGER NOT NULL,
          value REAL NOT NULL,
          PRIMARY KEY (symbol, ts)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE liquidations (
          symbol TEXT NOT NULL,
          ts INTEGER NOT NULL,
          side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
          price REAL NOT NULL,
          size REAL NOT NULL,
          PRIMARY KEY (symbol, ts, side, price, size)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE long_short (
          symbol TEXT NOT NULL,
          ts INTEGER NOT NULL,
          period TEXT NOT NULL,
          ratio REAL NOT NULL,
          long_account REAL NOT NULL,
          short_account REAL NOT NULL,
          PRIMARY KEY (symbol, ts, period)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE gaps (
          id INTEGER PRIMARY KEY,
          symbol TEXT,
          stream TEXT NOT NULL,
          start INTEGER NOT NULL,
          "end" INTEGER,
          cause TEXT NOT NULL,
          detail TEXT NOT NULL
        ) STRICT;
        CREATE INDEX gaps_by_time ON gaps (start);
      `);
    },
  },
  {
    version: 2,
    name: 'volatility index (Deribit DVOL) and funding intervals',
    up(db) {
      // resolution 0: live values; otherwise history bars of that many seconds (back-filled).
      db.exec(`
        CREATE TABLE volatility_index (
          symbol TEXT NOT NULL,
          resolution INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          open REAL NOT NULL,
          high REAL NOT NULL,
          low REAL NOT NULL,
          close REAL NOT NULL,
          PRIMARY KEY (symbol, resolution, ts)
        ) STRICT, WITHOUT ROWID;

        ALTER TABLE funding ADD COLUMN interval_ms INTEGER;
      `);
    },
  },
];

export const MARKET_SCHEMA_VERSION = migrations.at(-1)!.version;

/** Only one process writes; a short wait covers a reader's checkpoint, a long one would stall collecting. */
const BUSY_TIMEOUT_MS = 200;
/** After a checkpoint the WAL file is cut back to this size instead of staying at its high-water mark. */
const JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024;
const CACHE_KIB = 16 * 1024;

export function marketDbPath(dataDir: string, venue: Venue): string {
  return join(resolve(dataDir), 'market', `${venue}.db`);
}

export interface OpenMarketDbOptions {
  /** Open an existing, up-to-date file for reading only: no pragmas, no migrations. */
  readonly?: boolean;
  /** Writing: the venue this file is for (a file of another venue is refused). */
  venue?: Venue;
  /** better-sqlite3's addon for this runtime (the Electron build when run inside Electron). */
  nativeBinding?: string;
}

/** Opens a market database (creating it when writing); every failure is a MarketDbError. */
export function openMarketDb(path: string, opts: OpenMarketDbOptions = {}): Db {
  return openOwnedDb(
    {
      errors: marketErrors,
      migrations,
      kind: 'market',
      missingWayForward: 'Check the data folder and venue; the file appears once its collector has recorded.',
      writer: 'the collector',
      startOnce: 'Start its collector once',
      busyTimeoutMs: BUSY_TIMEOUT_MS,
      tune(db) {
        // NORMAL, not control.db's FULL: in WAL mode a commit then survives a crash of this process
        // (the OS holds it) and the file never corrupts, but a power cut can lose the last few
        // batches. That is acceptable for market data (the exchange keeps its history, and the gap is
        // visible), while FULL would put an fsync on the event loop four times a second at thousands
        // of messages per second.
        db.pragma('synchronous = NORMAL');
        db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
        // Each batch touches a leaf page per symbol and table; keep them cached rather than re-read.
        db.pragma(`cache_size = -${CACHE_KIB}`);
      },
      afterMigrate: opts.venue ? (db) => claimVenue(db, resolve(path), opts.venue!) : undefined,
    },
    path,
    opts,
  );
}

function claimVenue(db: Db, file: string, venue: Venue): void {
  const stored = db.prepare<[], unknown>(`SELECT value FROM meta WHERE key = 'venue'`).pluck().get();
  if (stored === undefined) {
    db.prepare(`INSERT INTO meta (key, value) VALUES ('venue', ?), ('created_at', ?)`).run(venue, Date.now());
  } else if (stored !== venue) {
    throw marketErrors.unreadable(
      file,
      `it holds ${String(stored)} data, not ${venue}`,
      `Check the collector's venue and data folder; move the file out of the way if it does not belong there.`,
    );
  }
}
