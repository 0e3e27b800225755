/**
 * The file-level rules every Vigil database follows (control.db in the supervisor, market/<venue>.db
 * in each collector): the header is checked before SQLite sees the file, WAL is required, a cheap walk
 * of every b-tree meets a truncated or damaged file at opening, and a bad file is moved aside with its
 * WAL, never deleted.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import type { DbErrors, DbFileError } from './errors';

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** The name a bad file gets when moved aside: control.db.bad-2026-11-22T14-30-00Z. */
export function asideName(file: string, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `${file}.bad-${stamp}`;
}

/**
 * Garbage, a truncated header, a folder in the file's place: found from the first 100 bytes, before
 * SQLite opens the file (it would otherwise take some of them for an empty database). A missing file
 * is a new database, unless `missing` says what to tell the reader.
 */
export function checkHeader<E extends DbFileError>(
  file: string,
  errors: DbErrors<E>,
  missing?: { detail: string; wayForward: string },
): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      throw errors.unreadable(
        file,
        'it is not a regular file',
        `Move it out of the way, then ${errors.restart}.`,
      );
    }
    size = st.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!missing) return;
      throw errors.unreadable(file, missing.detail, missing.wayForward);
    }
    throw errors.from(error, file);
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
    throw errors.from(error, file);
  }
  if (read < header.length || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw errors.corrupt(file, 'file is not a database');
  }
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    throw errors.corrupt(file, `invalid page size ${raw} in the header`);
  }
}

/** WAL or nothing: readers (the UI, the optimizer) must never block the one writer. */
export function useWal<E extends DbFileError>(db: Db, file: string, errors: DbErrors<E>): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw errors.unreadable(file, `it cannot be switched to WAL mode (journal_mode stays ${String(mode)})`);
  }
}

/**
 * A full `PRAGMA quick_check` reads the whole file (~260 ms for 42 MB here), far beyond an event
 * loop's budget. Instead every b-tree (each table and index) is walked down its first and last path:
 * a truncated file, a damaged root or a damaged append end (where every write goes) fails here, in
 * about a millisecond. Damage elsewhere surfaces as a 'corrupt' error from the query or write that
 * meets it.
 */
export function probeTables(db: Db): void {
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
      if (cols.length === 0 || cols.some((c) => c === null)) continue; // an expression index: not walked
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
export function moveAside<E extends DbFileError>(
  path: string,
  errors: DbErrors<E>,
  now: Date = new Date(),
): string {
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
      throw errors.unreadable(
        file,
        `it cannot be moved aside: ${(error as Error).message}`,
        `Move ${file}${suffix} out of the way yourself, then ${errors.restart}.`,
        error,
      );
    }
  }
  return target;
}
