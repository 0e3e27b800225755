/**
 * Starting Vigil at login, as `desktop.startAtLogin` says, applied at launch and at every change.
 * macOS and Windows: Electron's app.setLoginItemSettings. Electron has no login items on Linux (the
 * API is documented for macOS and Windows only), so there an XDG autostart entry is written or
 * removed instead: $XDG_CONFIG_HOME/autostart/vigil.desktop (~/.config/autostart by default), which
 * GNOME, KDE, Xfce and most other desktops start at login.
 */
import { rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Settings } from '../../shared/settings';
import type { EventHub } from '../api/event-hub';
import { writeFileAtomically } from '../supervisor/atomic-file';

export interface LoginItemTarget {
  platform: NodeJS.Platform;
  /** Electron's app.setLoginItemSettings (macOS, Windows). */
  setLoginItemSettings(settings: { openAtLogin: boolean }): void;
  /** What starts Vigil (Linux entry): the executable, then its arguments. */
  command: readonly string[];
  /** HOME and XDG_CONFIG_HOME locate the autostart folder on Linux. */
  env: Readonly<Record<string, string | undefined>>;
}

export const AUTOSTART_FILE_NAME = 'vigil.desktop';

/**
 * What starts this Vigil (the Linux entry's command): an AppImage by its own path (execPath points
 * into its temporary mount), a packaged app by its executable, a development run as Electron plus the
 * app's folder.
 */
export function launchCommand(app: {
  isPackaged: boolean;
  execPath: string;
  appPath: string;
  env: Readonly<Record<string, string | undefined>>;
}): string[] {
  if (!app.isPackaged) return [app.execPath, app.appPath];
  return [app.env.APPIMAGE || app.execPath];
}

/** The Linux autostart entry's path (XDG Base Directory: a relative XDG_CONFIG_HOME is ignored). */
export function autostartFile(env: LoginItemTarget['env']): string {
  const configured = env.XDG_CONFIG_HOME;
  if (configured && isAbsolute(configured)) return join(configured, 'autostart', AUTOSTART_FILE_NAME);
  if (!env.HOME) throw new Error('cannot find the autostart folder: neither XDG_CONFIG_HOME nor HOME is set');
  return join(env.HOME, '.config', 'autostart', AUTOSTART_FILE_NAME);
}

/** One Exec argument, quoted as the Desktop Entry spec asks (quoting, then the string escapes). */
function execArgument(arg: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(arg)) {
    throw new Error(`cannot write an autostart entry: a control character in ${JSON.stringify(arg)}`);
  }
  const quoted = `"${arg.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

export function desktopEntry(command: readonly string[]): string {
  if (command.length === 0 || command[0] === '')
    throw new Error('cannot write an autostart entry: no command');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Vigil',
    'Comment=Starts Vigil at login (Settings › Desktop app › Start at login)',
    `Exec=${command.map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export function applyStartAtLogin(enabled: boolean, target: LoginItemTarget): void {
  if (target.platform === 'darwin' || target.platform === 'win32') {
    target.setLoginItemSettings({ openAtLogin: enabled });
    return;
  }
  const file = autostartFile(target.env);
  if (enabled) writeFileAtomically(file, desktopEntry(target.command), { durable: false });
  else rmSync(file, { force: true });
}

/**
 * Applies the setting now (the OS may have been changed behind Vigil's back, or by another install),
 * then whenever `config.changed` brings a different value. A failure is logged, never thrown: the
 * setting stays saved and applies at the next change or launch.
 */
export function followStartAtLogin(
  events: Pick<EventHub, 'listen'>,
  initial: Settings,
  target: LoginItemTarget,
  log: (message: string, error: unknown) => void = (message, error) => console.error(message, error),
): () => void {
  let applied: boolean | null = null;
  const apply = (enabled: boolean): void => {
    if (enabled === applied) return;
    try {
      applyStartAtLogin(enabled, target);
      applied = enabled;
    } catch (error) {
      log(`[app] could not ${enabled ? 'set up' : 'remove'} starting at login:`, error);
    }
  };
  apply(initial.desktop.startAtLogin);
  return events.listen((event, payload) => {
    if (event === 'config.changed') apply((payload as { settings: Settings }).settings.desktop.startAtLogin);
  });
}
