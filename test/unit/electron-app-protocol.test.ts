import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppProtocolHandler } from '../../src/main/electron/app-protocol';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";

let root: string;
let renderer: string;
let handle: (request: Request) => Promise<Response>;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'vigil-app-protocol-'));
  renderer = join(root, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Vigil</title>');
  writeFileSync(join(renderer, 'assets', 'app-abc123.js'), 'console.log(1)');
  writeFileSync(join(root, 'secret.txt'), 'exchange api key');
  // A sibling whose name starts with the renderer folder's: a prefix check would let it through.
  mkdirSync(join(root, 'renderer-evil'));
  writeFileSync(join(root, 'renderer-evil', 'x.js'), 'evil');
  handle = createAppProtocolHandler(renderer);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handle(new Request(url, { method }));

describe('app:// protocol handler', () => {
  it('serves index.html for / with its type and the CSP header', async () => {
    for (const url of ['app://vigil/', 'app://vigil/index.html', 'app://VIGIL/index.html']) {
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toContain('<title>Vigil</title>');
    }
  });

  it('serves assets', async () => {
    const res = await get('app://vigil/assets/app-abc123.js?v=1#x');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await res.text()).toBe('console.log(1)');
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get('app://vigil/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get('app://vigil/index.html', 'POST')).status).toBe(405);
  });

  it.each([
    'app://vigil/missing.js',
    'app://vigil/assets', // a folder
    'app://vigil/assets/',
    'app://vigil/index.html/x',
    'app://other/index.html', // another host of the scheme
  ])('404s %s', async (url) => {
    const res = await get(url);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-security-policy')).toBe(CSP);
  });

  it.each([
    '/../../etc/passwd',
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/assets/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/%5c..%5csecret.txt',
    '/index.html%00.js',
    '/%00',
    '/%E0%A4%A', // malformed percent-encoding
    '/../renderer-evil/x.js',
    '/%2e%2e/renderer-evil/x.js',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
  ])('refuses traversal %s', async (path) => {
    // Request normalizes dot segments the way Chromium does; the encoded forms reach the resolver.
    const res = await get(`app://vigil${path}`);
    expect(res.status, path).toBe(404);
    const body = await res.text();
    expect(body).not.toContain('exchange api key');
    expect(body).not.toContain('root:');
    expect(body).not.toContain('evil');
  });

  it('refuses traversal in raw, unnormalized paths too', async () => {
    // A request object whose url skipped normalization (defence in depth).
    for (const path of ['/../secret.txt', '/./../secret.txt', '/assets/../../secret.txt']) {
      const res = await handle({ url: `app://vigil${path}`, method: 'GET' } as Request);
      expect(res.status, path).toBe(404);
    }
  });

  it('answers a read failure with 500, not a crash', async () => {
    const failing = createAppProtocolHandler(renderer, () =>
      Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' })),
    );
    const original = console.error;
    console.error = () => {};
    try {
      expect((await failing(new Request('app://vigil/index.html'))).status).toBe(500);
    } finally {
      console.error = original;
    }
  });
});
