/**
 * Numbered migrations in code, for every Vigil database. Each runs in its own transaction together
 * with the `PRAGMA user_version` bump, so a crash leaves the file at the previous version or the next
 * one, never in between. A file newer than this code is refused before anything is touched.
 */
import type { Database } from 'better-sqlite3';
import type { DbErrors, DbFileError } from './errors';

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throws a 'newer-version' error when the file was written by a newer Vigil; reads only. */
export function refuseNewer<E extends DbFileError>(
  db: Database,
  file: string,
  list: readonly Migration[],
  errors: DbErrors<E>,
): number {
  const version = schemaVersion(db);
  const known = list.at(-1)?.version ?? 0;
  if (version > known) throw errors.newerVersion(file, version, known);
  return version;
}

/** Brings the file up to the last migration in `list`, one transaction per migration. */
export function applyMigrations<E extends DbFileError>(
  db: Database,
  file: string,
  list: readonly Migration[],
  errors: DbErrors<E>,
): { from: number; to: number } {
  const from = refuseNewer(db, file, list, errors);
  let to = from;
  for (const m of list) {
    if (m.version <= to) continue;
    if (m.version !== to + 1)
      throw new Error(`migrations must be numbered 1, 2, 3, ...: ${m.version} follows ${to}`);
    try {
      db.transaction(() => {
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } catch (error) {
      // The file's own trouble (busy, full, damaged) says so; anything else is a bug in the step.
      if (
        /^SQLITE_(BUSY|LOCKED|FULL|CORRUPT|NOTADB|IOERR)/.test(String((error as { code?: unknown }).code))
      ) {
        throw errors.from(error, file);
      }
      throw errors.unreadable(
        file,
        `migration ${m.version} (${m.name}) failed: ${(error as Error).message}; the file stays at version ${to}`,
        'This is a bug in Vigil: report it with this message. The file was not changed by the failed step.',
        error,
      );
    }
    to = m.version;
  }
  return { from, to };
}
