/**
 * Opening control.db: the file's header is checked before SQLite sees it, the schema version before
 * anything is written, then WAL with synchronous=FULL (a commit is on disk when it returns), the
 * migrations, and a few cheap reads that would meet a truncated or damaged file. Every failure is a
 * StoreError that names the file and says what to do; a bad file is moved aside, never deleted.
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { applyMigrations, refuseNewer, SCHEMA_VERSION } from './migrations';
import { asideName, corrupt, toStoreError, unreadable } from './store-error';

export { StoreError, type StoreErrorCode } from './store-error';

/** Only one process writes; a short wait covers a reader's checkpoint, a long one would freeze the UI. */
export const BUSY_TIMEOUT_MS = 200;
/** After a checkpoint the WAL file is cut back to this size instead of staying at its high-water mark. */
const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

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
  checkHeader(file);
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
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw unreadable(file, `it cannot be switched to WAL mode (journal_mode stays ${String(mode)})`);
  }
  // After journal_mode: this build's default for WAL is NORMAL, which can lose the last commits on
  // power loss.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
}

/**
 * Garbage, a truncated header, a folder in the file's place: found from the first 100 bytes, before
 * SQLite opens the file (it would otherwise treat some of them as an empty database).
 */
function checkHeader(file: string): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      throw unreadable(file, 'it is not a regular file', 'Move it out of the way, then start Vigil again.');
    }
    size = st.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // a new database
    throw toStoreError(error, file);
  }
  if (size === 0) return; // SQLite's own "empty database": created, never written
  const header = Buffer.alloc(100);
  let read: number;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw toStoreError(error, file);
  }
  if (read < header.length || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt(file, 'file is not a database');
  }
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    throw corrupt(file, `invalid page size ${raw} in the header`);
  }
}

/**
 * A full `PRAGMA quick_check` reads the whole file (~260 ms for 42 MB here), far beyond the main
 * thread's budget. Instead every b-tree (each table and index) is walked down its first and last
 * path: a truncated file, a damaged root or a damaged append end (where every write goes) fails
 * here, in about a millisecond. Damage elsewhere surfaces as a 'corrupt' StoreError from the query or
 * flush that meets it.
 */
function probeTables(db: Db): void {
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const objects = db
    .prepare<[], { type: string; name: string; tbl_name: string; sql: string | null }>(
      `SELECT type, name, tbl_name, sql FROM sqlite_master
       WHERE (type = 'table' AND name NOT LIKE 'sqlite_%') OR type = 'index'`,
    )
    .all();
  for (const o of objects) {
    let from: string;
    let keys: string[];
    if (o.type === 'table') {
      from = `${q(o.name)} NOT INDEXED`;
      keys = /WITHOUT\s+ROWID/i.test(o.sql ?? '')
        ? (db.pragma(`table_info(${q(o.name)})`) as { name: string; pk: number }[])
            .filter((c) => c.pk > 0)
            .sort((a, b) => a.pk - b.pk)
            .map((c) => q(c.name))
        : ['rowid'];
    } else {
      const cols = (db.pragma(`index_info(${q(o.name)})`) as { name: string | null }[]).map((c) => c.name);
      if (cols.some((c) => c === null)) continue; // an expression index: not walked
      const partial = /\bWHERE\b([\s\S]*)$/i.exec(o.sql ?? '')?.[1];
      from = `${q(o.tbl_name)} INDEXED BY ${q(o.name)}${partial ? ` WHERE ${partial}` : ''}`;
      keys = cols.map((c) => q(c!));
    }
    for (const dir of ['ASC', 'DESC']) {
      db.prepare(`SELECT 1 FROM ${from} ORDER BY ${keys.map((k) => `${k} ${dir}`).join(', ')} LIMIT 1`).get();
    }
  }
}

/**
 * Moves the database and its -wal/-shm/-journal aside, renamed with a timestamp (control.db.bad-…Z,
 * control.db.bad-…Z-wal: SQLite opens the pair together), so a fresh database can be created. Nothing
 * is deleted. The WAL goes first: a stale WAL beside a new database would be replayed into it.
 * Returns the new path of the database file.
 */
export function moveAside(path: string, now: Date = new Date()): string {
  const file = resolve(path);
  const suffixes = ['-wal', '-shm', '-journal', ''];
  const base = asideName(file, now);
  let target = base;
  for (let n = 1; suffixes.some((s) => existsSync(target + s)); n++) target = `${base}-${n}`;
  for (const suffix of suffixes) {
    if (!existsSync(file + suffix)) continue;
    try {
      renameSync(file + suffix, target + suffix);
    } catch (error) {
      throw unreadable(
        file,
        `it cannot be moved aside: ${(error as Error).message}`,
        `Move ${file}${suffix} out of the way yourself, then start Vigil again.`,
        error,
      );
    }
  }
  return target;
}
