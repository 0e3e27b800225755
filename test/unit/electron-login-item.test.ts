/**
 * Start at login: Electron's login item on macOS and Windows, an XDG autostart entry on Linux (in a
 * temporary HOME), applied at launch and whenever `config.changed` brings a different value.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import {
  applyStartAtLogin,
  autostartFile,
  desktopEntry,
  followStartAtLogin,
  launchCommand,
  type LoginItemTarget,
} from '../../src/main/electron/login-item';
import { defaultSettings, type Settings } from '../../src/shared/settings';
import { tempDir } from '../helpers/temp-dir';

let home: ReturnType<typeof tempDir>;

beforeEach(() => {
  home = tempDir('vigil-home-');
});

afterEach(() => {
  home.remove();
});

function target(
  platform: NodeJS.Platform,
  env: Record<string, string> = { HOME: home.path },
): LoginItemTarget {
  return {
    platform,
    setLoginItemSettings: vi.fn(),
    command: ['/opt/Vigil/vigil'],
    env,
  };
}

function withStartAtLogin(on: boolean): Settings {
  const s = defaultSettings();
  return { ...s, desktop: { ...s.desktop, startAtLogin: on } };
}

describe('macOS and Windows: the login item', () => {
  it.each(['darwin', 'win32'] as const)('%s: sets and clears openAtLogin, writes no file', (platform) => {
    const t = target(platform);
    applyStartAtLogin(true, t);
    applyStartAtLogin(false, t);
    expect(t.setLoginItemSettings).toHaveBeenNthCalledWith(1, { openAtLogin: true });
    expect(t.setLoginItemSettings).toHaveBeenNthCalledWith(2, { openAtLogin: false });
    expect(existsSync(join(home.path, '.config'))).toBe(false);
  });
});

describe('Linux: an XDG autostart entry', () => {
  it('is written to ~/.config/autostart and removed again; no login item is asked for', () => {
    const t = target('linux');
    const file = join(home.path, '.config', 'autostart', 'vigil.desktop');
    applyStartAtLogin(true, t);
    expect(readFileSync(file, 'utf8')).toBe(desktopEntry(['/opt/Vigil/vigil']));
    expect(readFileSync(file, 'utf8')).toMatch(/^Exec="\/opt\/Vigil\/vigil"$/m);
    expect(statSync(file).isFile()).toBe(true);
    applyStartAtLogin(true, t); // again: the same file, no error
    applyStartAtLogin(false, t);
    expect(existsSync(file)).toBe(false);
    applyStartAtLogin(false, t); // already gone: fine
    expect(t.setLoginItemSettings).not.toHaveBeenCalled();
  });

  it('follows an absolute XDG_CONFIG_HOME, ignores a relative one, and needs one of them', () => {
    expect(autostartFile({ HOME: '/home/a', XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/autostart/vigil.desktop');
    expect(autostartFile({ HOME: '/home/a', XDG_CONFIG_HOME: 'cfg' })).toBe(
      '/home/a/.config/autostart/vigil.desktop',
    );
    expect(() => autostartFile({})).toThrow(/neither XDG_CONFIG_HOME nor HOME is set/);
    const t = target('linux', { XDG_CONFIG_HOME: join(home.path, 'xdg') });
    applyStartAtLogin(true, t);
    expect(existsSync(join(home.path, 'xdg', 'autostart', 'vigil.desktop'))).toBe(true);
  });

  it('quotes the command as the Desktop Entry spec asks', () => {
    const entry = desktopEntry(['/home/a b/Vigil.AppImage', '--data=100%', 'say "hi" $HOME \\ `x`']);
    const exec = entry.split('\n').find((l) => l.startsWith('Exec='));
    // Quoting escapes " ` $ \ with a backslash; the string escape then doubles every backslash.
    expect(exec).toBe(
      'Exec="/home/a b/Vigil.AppImage" "--data=100%%" "say \\\\"hi\\\\" \\\\$HOME \\\\\\\\ \\\\`x\\\\`"',
    );
    expect(entry).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Vigil\n/);
    expect(() => desktopEntry(['/bin/vigil', 'a\nb'])).toThrow(/control character/);
    expect(() => desktopEntry([])).toThrow(/no command/);
  });
});

describe('what the entry starts', () => {
  it('the AppImage itself, the packaged executable, or Electron with the app folder in development', () => {
    const app = { isPackaged: true, execPath: '/tmp/.mount_Vigil/vigil', appPath: '/x', env: {} };
    expect(launchCommand({ ...app, env: { APPIMAGE: '/home/a/Vigil.AppImage' } })).toEqual([
      '/home/a/Vigil.AppImage',
    ]);
    expect(launchCommand(app)).toEqual(['/tmp/.mount_Vigil/vigil']);
    expect(
      launchCommand({ ...app, isPackaged: false, execPath: '/n/electron', appPath: '/src/vigil' }),
    ).toEqual(['/n/electron', '/src/vigil']);
  });
});

describe('following the setting', () => {
  it('applies it at launch, then only when config.changed brings a different value', () => {
    const events = new EventHub();
    const t = target('darwin');
    const stop = followStartAtLogin(events, withStartAtLogin(false), t);
    expect(t.setLoginItemSettings).toHaveBeenCalledWith({ openAtLogin: false });
    events.emit('config.changed', { services: 0, settings: withStartAtLogin(false) });
    expect(t.setLoginItemSettings).toHaveBeenCalledTimes(1);
    events.emit('config.changed', { services: 0, settings: withStartAtLogin(true) });
    expect(t.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: true });
    expect(t.setLoginItemSettings).toHaveBeenCalledTimes(2);
    stop();
    events.emit('config.changed', { services: 0, settings: withStartAtLogin(false) });
    expect(t.setLoginItemSettings).toHaveBeenCalledTimes(2);
  });

  it('a failure is logged, not thrown, and tried again at the next change', () => {
    const events = new EventHub();
    const log = vi.fn();
    const t = target('linux', {}); // no HOME: the entry cannot be placed
    followStartAtLogin(events, withStartAtLogin(true), t, log);
    expect(log).toHaveBeenCalledWith('[app] could not set up starting at login:', expect.any(Error));
    t.env = { HOME: home.path };
    events.emit('config.changed', { services: 0, settings: withStartAtLogin(true) });
    expect(existsSync(join(home.path, '.config', 'autostart', 'vigil.desktop'))).toBe(true);
    expect(log).toHaveBeenCalledOnce();
  });
});
