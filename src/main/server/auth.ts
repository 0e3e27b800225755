import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_PARAM } from '../../shared/wire';

/** A fresh access token, printed in the URL the server logs (as Jupyter does). */
export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison, so response timing says nothing about how much of a guess was right. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/**
 * A browser always sends Origin on a WebSocket upgrade; it must be this server's own origin, or a page
 * on another site could drive the API with a token it has stolen. Clients that are not browsers (the
 * CLI, tests) send none and are judged by the token alone.
 */
export function originAllowed(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (!host) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host === host.toLowerCase();
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The token a request carries: `Authorization: Bearer …` (scrapers, the CLI) or `?token=` (a browser). */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return url.searchParams.get(TOKEN_PARAM);
}

/**
 * Bound to loopback, a Host naming anything else is a DNS-rebinding attempt (a web page whose name
 * resolves to 127.0.0.1); bound elsewhere, the token is the guard.
 */
export function hostAllowed(bindHost: string, req: IncomingMessage): boolean {
  if (!isLoopback(bindHost)) return true;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  return isLoopback(host);
}
