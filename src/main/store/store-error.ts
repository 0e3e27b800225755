/**
 * control.db's errors: the shared rules of src/services/sqlite/errors.ts, with control.db's way
 * forward (`--recover-store` or the desktop dialog moves the file aside).
 */
import { basename } from 'node:path';
import { dbErrors, DbFileError, type DbErrorCode } from '../../services/sqlite/errors';
import { asideName } from '../../services/sqlite/db-file';

export type StoreErrorCode = DbErrorCode;

export class StoreError extends DbFileError {
  override readonly name = 'StoreError';
}

export const storeErrors = dbErrors<StoreError>(
  {
    create: (code, file, problem, wayForward, cause) =>
      new StoreError(code, file, problem, wayForward, { cause }),
    moveAside: (file) =>
      `Vigil can move it aside to ${basename(asideName(file))} and start fresh: ` +
      `run with --recover-store, or choose 'Move aside' in the dialog.`,
    locked: 'Close the other program using it (another Vigil, or a database tool), then start Vigil again.',
    restart: 'start Vigil again',
    schema: 'schema',
  },
  (error): error is StoreError => error instanceof StoreError,
);

export const { corrupt, unreadable, newerVersion } = storeErrors;
export const toStoreError = storeErrors.from;
