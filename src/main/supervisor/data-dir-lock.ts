/**
 * One supervisor per data directory. Two Vigils on the same data would start every service twice
 * and fight over the run-state file, so the second one refuses to start and says who holds the lock.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import { processIdentitySync, UNKNOWN_START_TIME } from './process-table';
import { writeFileAtomically } from './atomic-file';
import type { WarningLogger } from './run-state-file';

export const LOCK_FILE_NAME = 'vigil.lock';

interface LockContent {
  pid: number;
  startTime: string;
  host: string;
  createdAt: number;
  /** Tells two holders in one process apart, so a late release never removes a successor's lock. */
  nonce?: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockContent,
    detail = '',
  ) {
    super(
      `another Vigil (pid ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, started ${new Date(holder.createdAt).toISOString()}) is already using ${dataDir}; stop it or choose another --data-dir${detail}`,
    );
    this.name = 'DataDirLockedError';
  }
}

function readLock(path: string): { text: string; content: LockContent | null } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { text: '', content: null };
  }
  try {
    const v = JSON.parse(text) as Partial<LockContent>;
    const valid =
      Number.isInteger(v.pid) &&
      typeof v.startTime === 'string' &&
      typeof v.host === 'string' &&
      typeof v.createdAt === 'number';
    return { text, content: valid ? (v as LockContent) : null };
  } catch {
    return { text, content: null };
  }
}

/** Why a lock no longer protects anything, or null if its holder is (or may be) alive. */
function staleReason(lock: LockContent): string | null {
  if (lock.host !== hostname()) return null; // a shared folder: we cannot see that machine's processes
  // Pids and start times (ticks since boot) repeat across reboots: a lock older than this boot is stale.
  const bootedAt = Date.now() - uptime() * 1000;
  if (lock.createdAt < bootedAt - 5000) return 'it predates the last boot';
  const now = processIdentitySync(lock.pid);
  if (!now) return `pid ${lock.pid} is not running`;
  if (now.startTime === UNKNOWN_START_TIME || lock.startTime === UNKNOWN_START_TIME) return null;
  if (now.startTime !== lock.startTime) return `pid ${lock.pid} now belongs to another process`;
  return null;
}

/**
 * Creates the lock file with its full content in one step: the content goes to a private file first
 * and is then hard-linked to the lock name, which fails if the lock exists (like open with `wx`, but
 * a reader can never see a half-written lock). Falls back to `wx` where hard links are unsupported.
 */
function createLock(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileAtomically(tmp, text);
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    try {
      writeFileSync(path, text, { flag: 'wx', mode: 0o644 });
      return true;
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fallbackError;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Removes a stale lock only if it is still the one judged stale: it is renamed away first (only one
 * contender can win the rename), then checked.
 */
function removeStaleLock(path: string, staleText: string): void {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else took it first; the caller tries again
  }
  const moved = readLock(aside);
  if (moved && moved.text !== staleText) {
    // A live lock replaced the stale one between our read and our rename: put it back.
    try {
      linkSync(aside, path);
    } catch {
      // Yet another lock was created meanwhile; that one stands.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Already gone.
  }
}

/**
 * Takes the data directory for this process. Throws DataDirLockedError if another live Vigil holds
 * it; takes over (and logs) a lock left by a Vigil that is gone.
 */
export function acquireDataDirLock(dataDir: string, logger: WarningLogger = console): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE_NAME);
  const own = processIdentitySync(process.pid);
  const mine: LockContent = {
    pid: process.pid,
    startTime: own?.startTime ?? UNKNOWN_START_TIME,
    host: hostname(),
    createdAt: Date.now(),
    nonce: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(mine)}\n`;

  for (let attempt = 0; attempt < 5; attempt++) {
    if (createLock(path, text)) return { release: () => releaseLock(path, text) };
    const existing = readLock(path);
    if (!existing) continue; // released meanwhile
    if (existing.content) {
      const reason = staleReason(existing.content);
      if (reason === null) {
        const detail =
          existing.content.host !== hostname()
            ? ` (if Vigil is not running on ${existing.content.host}, delete ${path})`
            : '';
        throw new DataDirLockedError(dataDir, existing.content, detail);
      }
      logger.warn(`taking over a stale lock on ${dataDir} from pid ${existing.content.pid}: ${reason}`);
    } else if (Date.now() - modifiedAt(path) < 2000) {
      // Possibly being written right now by a Vigil on a file system without hard links: look again.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      continue;
    } else {
      logger.warn(`taking over an unreadable lock file ${path}`);
    }
    removeStaleLock(path, existing.text);
  }
  throw new Error(`could not lock ${dataDir}: ${path} keeps changing; is another Vigil starting?`);
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function releaseLock(path: string, text: string): void {
  // Only our own lock: if it was taken over (we were judged stale), the new holder keeps it.
  const current = readLock(path);
  if (current?.text !== text) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
