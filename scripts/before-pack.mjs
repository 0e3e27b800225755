// electron-builder's beforePack hook (electron-builder.yml). Packaging does not rebuild native modules
// (npmRebuild: false): the app ships native/electron/better_sqlite3.node as built by
// `npm run rebuild:electron`. Packing an installer without it, or with one built for another Electron
// version, OS or CPU, would give an app that cannot open its database; refuse instead, saying what to run.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Where scripts/build-electron-sqlite.mjs writes the addon and what it was built for. */
export const NATIVE_DIR = join('native', 'electron');

/**
 * Why the Electron build of better-sqlite3 under `root` does not fit the package being made, or null
 * when it does. `platform` is Node's name (darwin, win32, linux), `arch` electron-builder's (x64, arm64).
 */
export function nativeBuildProblem({ root, electron, platform, arch }) {
  const rebuild = `npm run rebuild:electron -- --arch=${arch}`;
  const addon = join(root, NATIVE_DIR, 'better_sqlite3.node');
  const infoFile = join(root, NATIVE_DIR, 'build-info.json');
  if (!existsSync(addon) || !existsSync(infoFile)) {
    return `${join(NATIVE_DIR, 'better_sqlite3.node')} is missing. Build it on this ${platform} machine first: ${rebuild}`;
  }
  let info;
  try {
    info = JSON.parse(readFileSync(infoFile, 'utf8'));
  } catch (error) {
    return `${infoFile} is unreadable (${error.message}); rebuild it: ${rebuild}`;
  }
  const built = `Electron ${info.electron} on ${info.platform}-${info.arch}`;
  const wanted = `Electron ${electron} on ${platform}-${arch}`;
  if (info.electron !== electron || info.platform !== platform || info.arch !== arch) {
    return (
      `${NATIVE_DIR} holds better-sqlite3 built for ${built}, but this package is for ${wanted}. ` +
      `Rebuild it (${rebuild}), and package one arch at a time (see README, Desktop app).`
    );
  }
  return null;
}

export default async function beforePack(context) {
  const { Arch } = require('builder-util');
  const packager = context.packager;
  const problem = nativeBuildProblem({
    root: packager.projectDir,
    electron: packager.info.framework.version,
    // The Mac App Store build ('mas') is a darwin build too.
    platform: context.electronPlatformName === 'mas' ? 'darwin' : context.electronPlatformName,
    arch: Arch[context.arch],
  });
  if (problem !== null) throw new Error(`before-pack: ${problem}`);
}
