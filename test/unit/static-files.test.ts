import { resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentType, resolveStaticPath } from '../../src/main/server/static-files';

const root = resolve('/srv/vigil/renderer');

describe('resolveStaticPath', () => {
  it('maps the root to index.html and files inside the folder', () => {
    expect(resolveStaticPath(root, '/')).toBe(resolve(root, 'index.html'));
    expect(resolveStaticPath(root, '/assets/app-123.js')).toBe(resolve(root, 'assets', 'app-123.js'));
    expect(resolveStaticPath(root, '/a%20b.css')).toBe(resolve(root, 'a b.css'));
  });

  it.each([
    '/../../etc/passwd',
    '/assets/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E%2Fsecret',
    '/..%2f..%2fsecret',
    '/..%5c..%5csecret',
    '/index.html%00.png',
    '/%E0%A4%A',
    '/a\\..\\..\\b',
  ])('refuses %s', (path) => {
    const got = resolveStaticPath(root, path);
    if (got !== null) expect(got.startsWith(root + sep)).toBe(true);
    expect(got).toBeNull();
  });

  it('knows the content types it serves', () => {
    expect(contentType('x/index.html')).toMatch(/^text\/html/);
    expect(contentType('x/a.js')).toMatch(/^text\/javascript/);
    expect(contentType('x/a.unknown')).toBe('application/octet-stream');
  });
});
