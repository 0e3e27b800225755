/**
 * What can go wrong with control.db, in words a person can act on: every error names the file, says
 * what is wrong and what to do. Nothing here deletes anything: the way forward for a bad file is to
 * move it aside (kept, renamed) and start fresh.
 */
import { basename } from 'node:path';

export type StoreErrorCode = 'corrupt' | 'locked' | 'newer-version' | 'unreadable';

export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    readonly file: string,
    /** What is wrong, e.g. "is not a valid database (file is not a database)". */
    problem: string,
    readonly wayForward: string,
    options?: { cause?: unknown },
  ) {
    super(`${file} ${problem}. ${wayForward}`, options);
  }
}

/** The name a bad file gets when it is moved aside: control.db.bad-2026-11-22T14-30-00Z. */
export function asideName(file: string, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `${file}.bad-${stamp}`;
}

export function moveAsideAdvice(file: string, now?: Date): string {
  return (
    `Vigil can move it aside to ${basename(asideName(file, now))} and start fresh: ` +
    `run with --recover-store, or choose 'Move aside' in the dialog.`
  );
}

export const corrupt = (file: string, detail: string, cause?: unknown): StoreError =>
  new StoreError('corrupt', file, `is not a valid database (${detail})`, moveAsideAdvice(file), { cause });

export const locked = (file: string, detail: string, cause?: unknown): StoreError =>
  new StoreError(
    'locked',
    file,
    `is locked by another program (${detail})`,
    'Close the other program using it (another Vigil, or a database tool), then start Vigil again.',
    { cause },
  );

export const newerVersion = (file: string, found: number, known: number): StoreError =>
  new StoreError(
    'newer-version',
    file,
    `was written by a newer Vigil (schema version ${found}; this Vigil knows up to ${known})`,
    `Run the newer Vigil, or start fresh: ${moveAsideAdvice(file)}`,
  );

export const unreadable = (file: string, detail: string, wayForward?: string, cause?: unknown): StoreError =>
  new StoreError(
    'unreadable',
    file,
    `cannot be opened (${detail})`,
    wayForward ??
      `Check that the file and its folder are readable and writable by you and that the disk is not full; ` +
        `or start fresh: ${moveAsideAdvice(file)}`,
    { cause },
  );

/**
 * Maps whatever SQLite, the native addon or the file system threw to a StoreError about `file`;
 * `doing` names the operation when it was not the opening ("writing history").
 */
export function toStoreError(error: unknown, file: string, doing?: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return corrupt(file, message, error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return locked(file, message, error);
  if (code === 'SQLITE_FULL') {
    return unreadable(file, message, 'Free some disk space, then start Vigil again.', error);
  }
  if (/NODE_MODULE_VERSION|was compiled against a different/.test(message)) {
    // Under Electron without the Electron build of better-sqlite3 (scripts/build-electron-sqlite.mjs).
    return unreadable(
      file,
      `the SQLite module was built for another runtime: ${message}`,
      'Build it for Electron with `npm run rebuild:electron`, then start Vigil again.',
      error,
    );
  }
  if (doing) {
    return new StoreError(
      'unreadable',
      file,
      `failed while ${doing} (${message})`,
      'If this repeats, check the disk (free space, permissions), and report it with this message.',
      { cause: error },
    );
  }
  return unreadable(file, message, undefined, error);
}
