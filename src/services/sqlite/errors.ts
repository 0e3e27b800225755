/**
 * What can go wrong with one of Vigil's SQLite files, in words a person can act on: every error names
 * the file, says what is wrong and what to do. Nothing here deletes anything: the way forward for a
 * bad file is to move it aside (kept, renamed) and start fresh. control.db and the market databases
 * share the rules and differ only in the advice (who moves the file, what to restart).
 */
export type DbErrorCode = 'corrupt' | 'locked' | 'newer-version' | 'unreadable';

export class DbFileError extends Error {
  constructor(
    readonly code: DbErrorCode,
    readonly file: string,
    /** What is wrong, e.g. "is not a valid database (file is not a database)". */
    problem: string,
    readonly wayForward: string,
    options?: { cause?: unknown },
  ) {
    super(`${file} ${problem}. ${wayForward}`, options);
  }
}

export interface DbErrorAdvice<E extends DbFileError> {
  create(code: DbErrorCode, file: string, problem: string, wayForward: string, cause?: unknown): E;
  /** How to start fresh, as a sentence: "Vigil can move it aside to … and start fresh: …". */
  moveAside(file: string): string;
  /** Who else may hold the file and what to do about it. */
  locked: string;
  /** What to do once the problem is fixed, e.g. "start Vigil again". */
  restart: string;
  /** Which schema, in messages: "schema", "market schema". */
  schema: string;
}

export interface DbErrors<E extends DbFileError> {
  corrupt(file: string, detail: string, cause?: unknown): E;
  locked(file: string, detail: string, cause?: unknown): E;
  newerVersion(file: string, found: number, known: number): E;
  unreadable(file: string, detail: string, wayForward?: string, cause?: unknown): E;
  /** Maps what SQLite, the addon or the file system threw; `doing` names an operation past opening. */
  from(error: unknown, file: string, doing?: string): E;
  readonly restart: string;
}

export function dbErrors<E extends DbFileError>(
  advice: DbErrorAdvice<E>,
  isOwn: (error: unknown) => error is E,
): DbErrors<E> {
  const { create, restart } = advice;
  const unreadable = (file: string, detail: string, wayForward?: string, cause?: unknown): E =>
    create(
      'unreadable',
      file,
      `cannot be opened (${detail})`,
      wayForward ??
        `Check that the file and its folder are readable and writable by you and that the disk is not full; ` +
          `or start fresh. ${advice.moveAside(file)}`,
      cause,
    );
  const corrupt = (file: string, detail: string, cause?: unknown): E =>
    create('corrupt', file, `is not a valid database (${detail})`, advice.moveAside(file), cause);
  const locked = (file: string, detail: string, cause?: unknown): E =>
    create('locked', file, `is locked by another program (${detail})`, advice.locked, cause);
  return {
    restart,
    corrupt,
    locked,
    unreadable,
    newerVersion: (file, found, known) =>
      create(
        'newer-version',
        file,
        `was written by a newer Vigil (${advice.schema} version ${found}; this Vigil knows up to ${known})`,
        `Run the newer Vigil, or start fresh. ${advice.moveAside(file)}`,
      ),
    from(error, file, doing) {
      if (isOwn(error)) return error;
      const e = error as { code?: unknown; message?: unknown };
      const code = typeof e?.code === 'string' ? e.code : '';
      const message = typeof e?.message === 'string' ? e.message : String(error);
      if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return corrupt(file, message, error);
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
        return locked(file, message, error);
      if (code === 'SQLITE_FULL')
        return unreadable(file, message, `Free some disk space, then ${restart}.`, error);
      if (/NODE_MODULE_VERSION|was compiled against a different/.test(message)) {
        // Under Electron without the Electron build of better-sqlite3 (scripts/build-electron-sqlite.mjs).
        return unreadable(
          file,
          `the SQLite module was built for another runtime: ${message}`,
          `Build it for Electron with \`npm run rebuild:electron\`, then ${restart}.`,
          error,
        );
      }
      if (doing) {
        return create(
          'unreadable',
          file,
          `failed while ${doing} (${message})`,
          'If this repeats, check the disk (free space, permissions), and report it with this message.',
          error,
        );
      }
      return unreadable(file, message, undefined, error);
    },
  };
}
