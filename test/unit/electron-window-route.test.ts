import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL, appOrigins } from '../../src/main/electron/origins';
import { urlForRoute } from '../../src/main/electron/window-route';
import { hrefFor } from '../../src/shared/routes';

const origins = appOrigins();

describe('opening the window on a page', () => {
  it('changes only the fragment of the page the window shows', () => {
    expect(
      urlForRoute(
        'app://vigil/index.html#/dashboard',
        hrefFor('services', 'collector-a'),
        APP_ENTRY_URL,
        origins,
      ),
    ).toBe('app://vigil/index.html#/services/collector-a');
    expect(urlForRoute('app://vigil/index.html', hrefFor('events'), APP_ENTRY_URL, origins)).toBe(
      'app://vigil/index.html#/events',
    );
  });

  it('keeps the dev server while developing', () => {
    const dev = appOrigins('http://localhost:5173');
    expect(urlForRoute('http://localhost:5173/#/market', '#/events', 'http://localhost:5173/', dev)).toBe(
      'http://localhost:5173/#/events',
    );
  });

  it('does nothing when the window is there already', () => {
    expect(urlForRoute('app://vigil/index.html#/events', '#/events', APP_ENTRY_URL, origins)).toBeNull();
  });

  it('loads the app’s entry page into a window that is not on it', () => {
    expect(urlForRoute('about:blank', '#/events', APP_ENTRY_URL, origins)).toBe(
      'app://vigil/index.html#/events',
    );
    expect(urlForRoute('https://evil.example/#/x', '#/events', APP_ENTRY_URL, origins)).toBe(
      'app://vigil/index.html#/events',
    );
  });

  it('takes only the app’s own hash routes', () => {
    for (const bad of [
      '',
      '/events',
      '#events',
      'javascript:alert(1)',
      '#/x"><script>',
      'https://x.example/#/a',
      '#/a b',
    ]) {
      expect(() => urlForRoute(APP_ENTRY_URL, bad, APP_ENTRY_URL, origins), bad).toThrow(/not a hash route/);
    }
  });
});
