/**
 * Opening a Vigil database file that one program writes (a collector's market/<venue>.db, a
 * trader's trader/<service>.db) and others read: the header checked before SQLite sees the file, a
 * newer schema and a foreign database refused before anything is written, readers only on the
 * current schema, writers in WAL holding the write lock once (so a second writer shows up at once,
 * with a clear message) and migrated. Every failure is the database's own DbFileError.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { checkHeader, probeTables, useWal } from './db-file';
import type { DbErrors, DbFileError } from './errors';
import { applyMigrations, refuseNewer, type Migration } from './migrations';

export interface OwnedDbSpec<E extends DbFileError> {
  errors: DbErrors<E>;
  migrations: readonly Migration[];
  /** "trader", "market": as the errors name the database. */
  kind: string;
  /** What to do when the file is missing, for a reader. */
  missingWayForward: string;
  /** "the trader", "the collector": the program that writes it. */
  writer: string;
  /** "Start the trader once", "Start its collector once": what creates or upgrades the file. */
  startOnce: string;
  busyTimeoutMs: number;
  /** A writer's pragmas, after WAL and before the write lock. */
  tune(db: Db): void;
  /** A writer's last step, after the migrations. */
  afterMigrate?(db: Db): void;
}

export function openOwnedDb<E extends DbFileError>(
  spec: OwnedDbSpec<E>,
  path: string,
  opts: { readonly?: boolean; nativeBinding?: string | undefined },
): Db {
  const { errors } = spec;
  const file = resolve(path);
  const readonly = opts.readonly ?? false;
  if (!readonly) {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw errors.unreadable(
        file,
        `its folder cannot be created: ${(error as Error).message}`,
        undefined,
        error,
      );
    }
  }
  checkHeader(
    file,
    errors,
    readonly ? { detail: 'it does not exist', wayForward: spec.missingWayForward } : undefined,
  );
  let db: Db;
  try {
    db = new Database(file, {
      readonly,
      fileMustExist: readonly,
      timeout: readonly ? 1000 : spec.busyTimeoutMs,
      ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
    });
  } catch (error) {
    throw errors.from(error, file);
  }
  try {
    // Reads only, up to the version check, so a file we refuse is left exactly as it was.
    const objects = db.prepare<[], number>('SELECT count(*) FROM sqlite_master').pluck().get() ?? 0;
    const version = refuseNewer(db, file, spec.migrations, errors);
    if (version === 0 && objects > 0) {
      throw errors.unreadable(
        file,
        `it is an SQLite database, but not a Vigil ${spec.kind} database`,
        `Move it out of the way (it is not Vigil's), then start ${spec.writer} again.`,
      );
    }
    const current = spec.migrations.at(-1)!.version;
    if (readonly) {
      if (version !== current) {
        throw errors.unreadable(
          file,
          version === 0
            ? `it holds no ${spec.kind} data yet`
            : `its schema is version ${version}, this Vigil reads version ${current}`,
          `${spec.startOnce} (it creates or upgrades the file), then try again.`,
        );
      }
    } else {
      useWal(db, file, errors);
      spec.tune(db);
      db.exec('BEGIN IMMEDIATE');
      db.exec('COMMIT');
      applyMigrations(db, file, spec.migrations, errors);
      spec.afterMigrate?.(db);
    }
    probeTables(db);
    return db;
  } catch (error) {
    db.close();
    throw errors.from(error, file);
  }
}
