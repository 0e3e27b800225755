/**
 * The Electron binary the smoke test drives, or an error saying plainly that this machine has none.
 * `require('electron')` under Node returns the binary's path; it throws when the package is missing,
 * and the path it returns may not exist when the download failed half-way.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');

export class NoElectronError extends Error {
  constructor(reason: string) {
    super(
      [
        `The Electron smoke test cannot run here: ${reason}.`,
        'It drives the real desktop app, so it needs the Electron binary, which npm installs only where',
        "Electron's download is allowed. Run it on such a machine (npm install, then npm run test:electron)",
        'or let CI run it (.github/workflows/desktop.yml). It does not pass without Electron.',
      ].join('\n'),
    );
    this.name = 'NoElectronError';
  }
}

export function electronBinary(): string {
  const require = createRequire(join(repoRoot, 'package.json'));
  let path: unknown;
  try {
    path = require('electron');
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new NoElectronError(`require('electron') failed (${why})`);
  }
  if (typeof path !== 'string' || !existsSync(path)) {
    throw new NoElectronError(
      `require('electron') returned ${JSON.stringify(path)}, and there is no file there`,
    );
  }
  return path;
}
