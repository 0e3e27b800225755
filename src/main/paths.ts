import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a user's Vigil data lives when nobody says otherwise (the desktop app uses Electron's userData). */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Vigil');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Vigil');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'vigil');
}

/** The build's output folders, found from the running bundle (out/main/*.js). */
export function buildPaths(moduleUrl: string): {
  rendererDir: string;
  servicesDir: string;
  preloadDir: string;
} {
  const out = resolve(dirname(fileURLToPath(moduleUrl)), '..');
  return {
    rendererDir: join(out, 'renderer'),
    servicesDir: join(out, 'services'),
    preloadDir: join(out, 'preload'),
  };
}
