/**
 * Where a protocol service's embedded-bus publisher listens: a Unix socket in the data directory on
 * POSIX. Node listens on named pipes only on Windows, so there it is a pipe named after the data
 * directory (hashed, so Vigils on two data directories never meet) and the service.
 */
import { createHash } from 'node:crypto';
import { join, win32 } from 'node:path';

export function busSocketPath(
  dataDir: string,
  service: string,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform !== 'win32') return join(dataDir, 'bus', `${service}.sock`);
  // Windows paths are case-insensitive: C:\Vigil and c:\vigil are one data directory.
  const scope = createHash('sha256').update(win32.resolve(dataDir).toLowerCase()).digest('hex').slice(0, 16);
  return `\\\\.\\pipe\\vigil-${scope}-${service}`;
}
