/**
 * Opening control.db: the file's header is checked before SQLite sees it, the schema version before
 * anything is written, then WAL with synchronous=FULL (a commit is on disk when it returns), the
 * migrations, and a few cheap reads that would meet a truncated or damaged file. Every failure is a
 * StoreError that names the file and says what to do; a bad file is moved aside, never deleted.
 */
import type { Database as Db } from 'better-sqlite3';
import { moveAside as moveFileAside } from '../../services/sqlite/db-file';
import { openOwnedDb, type OwnedDbSpec } from '../../services/sqlite/open-db';
import { migrations } from './migrations';
import { storeErrors, type StoreError } from './store-error';

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

/** control.db as src/services/sqlite/open-db.ts opens every file one program writes. */
const controlDb: OwnedDbSpec<StoreError> = {
  errors: storeErrors,
  migrations,
  kind: 'control',
  missingWayForward: 'Start Vigil once (it creates the file), then try again.',
  writer: 'Vigil',
  startOnce: 'Start Vigil once',
  busyTimeoutMs: BUSY_TIMEOUT_MS,
  tune(db) {
    // After journal_mode: this build's default for WAL is NORMAL, which can lose the last commits on
    // power loss.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  },
};

/** Opens (creating if needed) the database file at `path`, normally `<data dir>/control.db`. */
export function openControlDb(path: string, opts: OpenControlDbOptions = {}): Db {
  return openOwnedDb(controlDb, path, opts);
}

/** Moves control.db and its WAL aside (kept, renamed); returns the new path of the database file. */
export function moveAside(path: string, now: Date = new Date()): string {
  return moveFileAside(path, storeErrors, now);
}
