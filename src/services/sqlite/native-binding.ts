/**
 * Which better-sqlite3 addon to load. Under Node (tests, headless) the package's own build; under
 * Electron, whose ABI differs, the build that scripts/build-electron-sqlite.mjs puts in
 * `<app root>/native/electron/`, passed to `new Database(file, { nativeBinding })`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ELECTRON_BINDING_PATH = join('native', 'electron', 'better_sqlite3.node');

export interface NativeBindingOptions {
  /** The folder holding the app's package.json; found from this module's location by default. */
  appRoot?: string;
  versions?: NodeJS.ProcessVersions;
  exists?: (path: string) => boolean;
}

/** The Electron build's path when running inside Electron and it is present; otherwise undefined. */
export function electronNativeBinding(opts: NativeBindingOptions = {}): string | undefined {
  const versions = opts.versions ?? process.versions;
  if (!versions.electron) return undefined;
  const exists = opts.exists ?? existsSync;
  const root = opts.appRoot ?? findAppRoot(dirname(fileURLToPath(import.meta.url)), exists);
  if (root === null) return undefined;
  const packed = join(root, ELECTRON_BINDING_PATH);
  // Packaged, native files live next to the asar (asarUnpack), where the OS loader can reach them.
  const unpacked = packed.replace(/\.asar(?=[\\/])/, '.asar.unpacked');
  return [unpacked, packed].find((p) => exists(p));
}

/** The nearest folder up from `start` with a package.json: the repo in development, app.asar packaged. */
function findAppRoot(start: string, exists: (path: string) => boolean): string | null {
  for (let dir = start; ; dir = dirname(dir)) {
    if (exists(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}
