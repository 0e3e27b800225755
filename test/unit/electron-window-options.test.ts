import { describe, expect, it } from 'vitest';
import { APP_SCHEME_PRIVILEGES } from '../../src/main/electron/app-protocol';
import { WINDOW_BACKGROUND, mainWindowOptions } from '../../src/main/electron/window-options';

describe('main window options (checklist 2-4, 6, 8-11)', () => {
  const options = mainWindowOptions({
    preload: '/app/out/preload/index.cjs',
    icon: '/app/resources/icon.png',
  });
  const prefs = options.webPreferences ?? {};

  it('isolates and sandboxes the renderer, with no Node anywhere', () => {
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
    });
  });

  it('never sets the flags that weaken web security', () => {
    for (const key of [
      'allowRunningInsecureContent',
      'experimentalFeatures',
      'enableBlinkFeatures',
      'additionalArguments',
    ]) {
      expect(prefs, key).not.toHaveProperty(key);
    }
  });

  it('loads the given preload and shows a dark window only when it is ready', () => {
    expect(prefs.preload).toBe('/app/out/preload/index.cjs');
    expect(options.show).toBe(false);
    expect(options.backgroundColor).toBe(WINDOW_BACKGROUND);
    expect(options.icon).toBe('/app/resources/icon.png');
    expect(mainWindowOptions({ preload: '/p.cjs' })).not.toHaveProperty('icon');
  });

  it('is the same on every call (one factory, no shared mutable state)', () => {
    const a = mainWindowOptions({ preload: '/p.cjs' });
    a.webPreferences!.sandbox = false;
    expect(mainWindowOptions({ preload: '/p.cjs' }).webPreferences?.sandbox).toBe(true);
  });
});

describe('app:// scheme privileges (checklist 18)', () => {
  it('is standard, secure and fetchable, and does not bypass CSP', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({
      scheme: 'app',
      privileges: { standard: true, secure: true, supportFetchAPI: true },
    });
    expect(APP_SCHEME_PRIVILEGES.privileges).not.toHaveProperty('bypassCSP');
  });
});
