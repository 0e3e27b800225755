import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import {
  EXTERNAL_HOSTS,
  isSafeExternalUrl,
  openExternalSafely,
} from '../../src/main/electron/external-links';
import { APP_ORIGIN, appOrigins, isAllowedOrigin, originOf } from '../../src/main/electron/origins';
import {
  denyAllPermissions,
  guardWebContents,
  type GuardedContents,
} from '../../src/main/electron/web-guards';

/** URLs that must never count as the app, whatever the check. */
const hostile = [
  'https://app.example.attacker.com/',
  'https://attacker.com/app://vigil',
  'app://vigil.evil/index.html',
  'app://vigilant/index.html',
  'app://evil/vigil',
  'app:vigil',
  'app:///vigil/index.html',
  'javascript:alert(document.domain)',
  'JavaScript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'about:blank',
  'blob:app://vigil/123',
  'http://vigil/',
  'http://localhost:5173/',
  'not a url',
  '',
];

describe('origins', () => {
  it('builds app:// origins from parts (Node reports them as "null")', () => {
    expect(new URL('app://vigil/x').origin).toBe('null'); // why originOf exists
    expect(originOf('app://vigil/index.html')).toBe(APP_ORIGIN);
    expect(originOf('app://VIGIL/x#y')).toBe(APP_ORIGIN);
    expect(originOf('http://localhost:5173/a?b')).toBe('http://localhost:5173');
    expect(originOf('https://example.com:443/')).toBe('https://example.com');
    expect(originOf('javascript:alert(1)')).toBeNull();
    expect(originOf('file:///etc/passwd')).toBeNull();
  });

  it.each(hostile)('never allows %j in production', (url) => {
    expect(isAllowedOrigin(url, appOrigins())).toBe(false);
  });

  it('allows the dev server only when it is given, by exact origin', () => {
    const dev = appOrigins('http://localhost:5173/');
    expect(dev).toEqual([APP_ORIGIN, 'http://localhost:5173']);
    expect(isAllowedOrigin('http://localhost:5173/index.html', dev)).toBe(true);
    expect(isAllowedOrigin('http://localhost:5173.attacker.com/', dev)).toBe(false);
    expect(isAllowedOrigin('http://localhost:51730/', dev)).toBe(false);
    expect(isAllowedOrigin('https://localhost:5173/', dev)).toBe(false);
    expect(() => appOrigins('javascript:alert(1)')).toThrow();
  });
});

class FakeContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: 'deny' } | { action: 'allow' }) | null = null;
  setWindowOpenHandler(
    handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' },
  ): void {
    this.openHandler = handler;
  }
  /** Emits a navigation event the way Electron does; returns whether it was prevented. */
  navigate(event: string, url: string): boolean {
    let prevented = false;
    this.emit(event, { url, preventDefault: () => (prevented = true) }, url);
    return prevented;
  }
}

function guarded(origins = appOrigins()) {
  const contents = new FakeContents();
  const openExternal = vi.fn();
  guardWebContents(contents as unknown as GuardedContents, { origins, openExternal });
  return { contents, openExternal };
}

describe('navigation guard (checklist 13)', () => {
  it.each(['will-navigate', 'will-frame-navigate', 'will-redirect'])(
    '%s stays on the app origin',
    (event) => {
      const { contents } = guarded();
      expect(contents.navigate(event, 'app://vigil/index.html')).toBe(false);
      expect(contents.navigate(event, 'app://vigil/other.html#x')).toBe(false);
      for (const url of hostile) expect(contents.navigate(event, url), url).toBe(true);
      expect(contents.navigate(event, 'https://www.binance.com/')).toBe(true); // even allowlisted hosts
    },
  );

  it('allows the dev server in dev, and only it', () => {
    const { contents } = guarded(appOrigins('http://localhost:5173'));
    expect(contents.navigate('will-navigate', 'http://localhost:5173/')).toBe(false);
    expect(contents.navigate('will-navigate', 'http://127.0.0.1:5173/')).toBe(true);
    expect(contents.navigate('will-navigate', 'http://localhost:5173.attacker.com/')).toBe(true);
  });

  it('prevents every <webview> from attaching (checklist 12)', () => {
    const { contents } = guarded();
    const preventDefault = vi.fn();
    contents.emit('will-attach-webview', { preventDefault }, {}, { src: 'app://vigil/index.html' });
    expect(preventDefault).toHaveBeenCalledOnce();
  });
});

describe('new windows (checklist 14)', () => {
  it('denies every window.open, app origin included', () => {
    const { contents, openExternal } = guarded();
    for (const url of ['app://vigil/index.html', ...hostile, 'https://www.binance.com/en/support']) {
      expect(contents.openHandler?.({ url })).toEqual({ action: 'deny' });
    }
    // Links elsewhere are offered to the external opener (which applies the allowlist), never ours.
    expect(openExternal).not.toHaveBeenCalledWith('app://vigil/index.html');
    expect(openExternal).toHaveBeenCalledWith('https://www.binance.com/en/support');
  });
});

describe('shell.openExternal allowlist (checklist 15)', () => {
  it.each([
    'https://binance.com/',
    'https://www.binance.com/en/support/announcement',
    'https://www.okx.com/status',
    'https://docs.deribit.com/',
    'https://github.com/vigil/vigil/issues',
    'https://WWW.GITHUB.COM/',
  ])('opens %s', (url) => {
    expect(isSafeExternalUrl(url)).toBe(true);
  });

  it.each([
    'http://binance.com/', // not https
    'http://www.okx.com/',
    'https://binance.com.attacker.com/',
    'https://evilbinance.com/',
    'https://binance.co/',
    'https://user:pass@github.com/',
    'https://github.com@attacker.com/',
    'https://github.com:8443/',
    'https://app.example.attacker.com/',
    'app://vigil.evil/',
    'app://vigil/index.html',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'smb://attacker.com/share',
    'ms-msdt:/id PCWDiagnostic',
    'mailto:someone@github.com',
    'data:text/html,hi',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isSafeExternalUrl(url)).toBe(false);
  });

  it('only calls the shell for allowed links', () => {
    const shell = { openExternal: vi.fn(() => Promise.resolve()) };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(openExternalSafely(shell, 'https://status.okx.com/')).toBe(true);
    expect(openExternalSafely(shell, 'javascript:alert(1)')).toBe(false);
    expect(openExternalSafely(shell, 'https://okx.com.attacker.com/')).toBe(false);
    expect(shell.openExternal.mock.calls).toEqual([['https://status.okx.com/']]);
    warn.mockRestore();
  });

  it('covers the exchanges and GitHub', () => {
    expect([...EXTERNAL_HOSTS].sort()).toEqual(['binance.com', 'deribit.com', 'github.com', 'okx.com']);
  });
});

describe('permissions (checklist 5)', () => {
  it('denies every request, check and device permission', () => {
    let request: ((c: unknown, p: string, cb: (granted: boolean) => void) => void) | undefined;
    let check: ((c: unknown, p: string) => boolean) | undefined;
    let device: (() => boolean) | undefined;
    denyAllPermissions({
      setPermissionRequestHandler: (h) => (request = h),
      setPermissionCheckHandler: (h) => (check = h),
      setDevicePermissionHandler: (h) => (device = h),
    });
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'clipboard-sanitized-write',
      'openExternal',
      'fullscreen',
      'hid',
      'serial',
      'usb',
      'fileSystem',
      'unknown',
    ]) {
      const callback = vi.fn();
      request!(null, permission, callback);
      expect(callback, permission).toHaveBeenCalledExactlyOnceWith(false);
      expect(check!(null, permission), permission).toBe(false);
    }
    expect(device!()).toBe(false);
  });
});
