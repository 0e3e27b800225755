/**
 * Opening control.db: the file's header is checked before SQLite sees it, the schema version before
 * anything is written, then WAL with synchronous=FULL (a commit is on disk when it returns), the
 * migrations, and a few cheap reads that would meet a truncated or damaged file. Every failure is a
 * StoreError that names the file and says what to do; a bad file is moved aside, never deleted.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { checkHeader, moveAside as moveFileAside, probeTables, useWal } from '../../services/sqlite/db-file';
import { applyMigrations, refuseNewer, SCHEMA_VERSION } from './migrations';
import { storeErrors, toStoreError, unreadable } from './store-error';

export { StoreError, type StoreErrorCode } from './store-error';

/** Only one process writes; a short wait covers a reader's checkpoint, a long one would freeze the UI. */
export const BUSY_TIMEOUT_MS = 200;
/** After a checkpoint the WAL file is cut back to this size instead of staying at its high-water mark. */
const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;

export interface OpenControlDbOptions {
  /** better-sqlite3's addon for this runtime (the Electron build, see native-binding.ts). */
  nativeBinding?: string;
  /** Open an existing, up-to-date file for reading only: no pragmas, no migrations. */
  readonly?: boolean;
}

/** Opens (creating if needed) the database file at `path`, normally `<data dir>/control.db`. */
export function openControlDb(path: string, opts: OpenControlDbOptions = {}): Db {
  const file = resolve(path);
  const readonly = opts.readonly ?? false;
  if (!readonly) {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw unreadable(file, `its folder cannot be created: ${(error as Error).message}`, undefined, error);
    }
  }
  checkHeader(file, storeErrors);
  let db: Db;
  try {
    db = new Database(file, {
      readonly,
      fileMustExist: readonly,
      timeout: BUSY_TIMEOUT_MS,
      ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
    });
  } catch (error) {
    throw toStoreError(error, file);
  }
  try {
    // Reads only up to the version check, so a file we refuse is left exactly as it was.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    const version = refuseNewer(db, file);
    if (readonly) {
      if (version !== SCHEMA_VERSION) {
        throw unreadable(
          file,
          `its schema is version ${version}, this Vigil reads version ${SCHEMA_VERSION}`,
          'Start Vigil once so it upgrades the file, then try again.',
        );
      }
    } else {
      configure(db, file);
      // One writer per file: take the write lock once now, so another writer shows up here, with a
      // clear message, rather than as failing flushes later.
      db.exec('BEGIN IMMEDIATE');
      db.exec('COMMIT');
      applyMigrations(db, file);
    }
    probeTables(db);
    return db;
  } catch (error) {
    db.close();
    throw toStoreError(error, file);
  }
}

function configure(db: Db, file: string): void {
  useWal(db, file, storeErrors);
  // After journal_mode: this build's default for WAL is NORMAL, which can lose the last commits on
  // power loss.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
}

/** Moves control.db and its WAL aside (kept, renamed); returns the new path of the database file. */
export function moveAside(path: string, now: Date = new Date()): string {
  return moveFileAside(path, storeErrors, now);
}
