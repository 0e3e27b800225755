/**
 * Checklist item 18: the renderer is served from `app://vigil/…` instead of file://. The scheme is
 * privileged as standard (real origin, relative URLs) and secure, with fetch support; it does NOT
 * bypass CSP, and every response carries the renderer's CSP header.
 */
import { readFile } from 'node:fs/promises';
import type { CustomScheme } from 'electron';
import { CONTENT_SECURITY_POLICY, contentType, resolveStaticPath } from '../server/static-files';
import { APP_HOST, APP_SCHEME } from './origins';

/** Must be registered before the app is ready (protocol.registerSchemesAsPrivileged). */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

const securityHeaders = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export type ReadFile = (path: string) => Promise<Uint8Array>;

/** The handler for `protocol.handle('app', …)`: files under `rendererDir`, 404 for anything else. */
export function createAppProtocolHandler(
  rendererDir: string,
  read: ReadFile = readFile,
): (request: Request) => Promise<Response> {
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return plain(400, 'bad request');
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host.toLowerCase() !== APP_HOST)
      return plain(404, 'not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'method not allowed');
    const file = resolveStaticPath(rendererDir, url.pathname);
    if (file === null) return plain(404, 'not found');
    let body: Uint8Array;
    try {
      body = await read(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return plain(404, 'not found');
      console.error('[app://] read failed:', error);
      return plain(500, 'internal error');
    }
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: { ...securityHeaders, 'Content-Type': contentType(file), 'Cache-Control': 'no-cache' },
    });
  };
}

function plain(status: number, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...securityHeaders, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}
