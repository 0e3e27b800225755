/** Small state files that must survive a crash or power loss mid-write. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes a file so that a crash at any moment leaves either the old or the new content. `durable:
 * false` skips the fsyncs: still atomic against a process crash, but a power loss may keep the old
 * content — right for records of running processes, which a power loss ends anyway.
 */
export function writeFileAtomically(path: string, content: string, opts: { durable?: boolean } = {}): void {
  const durable = opts.durable ?? true;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, content);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (durable && process.platform !== 'win32') {
    // The rename itself is durable only once the directory is synced.
    try {
      const dirFd = openSync(dirname(path), 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch {
      // Some file systems refuse fsync on a directory; the rename is still atomic.
    }
  }
}
