/**
 * Which origins the app's own pages come from, and how a URL is matched against them. Every check
 * (IPC sender, navigation) goes through `originOf`, which parses: a prefix test would let
 * `app://vigil.evil` or `http://localhost:5173.attacker.com` through.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'vigil';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window loads in a packaged app. */
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * The origin of a URL as `scheme://host[:port]`, or null when it has none we could trust.
 * Node's URL reports the origin of any non-http(s) scheme as the string "null", so `app:` URLs are
 * assembled from their parts (hosts lowercased, as Chromium does for a standard scheme).
 */
export function originOf(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed.origin;
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host !== '') {
    return `${parsed.protocol}//${parsed.host.toLowerCase()}`;
  }
  return null; // file:, javascript:, data:, about:, blob: ... never one of ours
}

export function isAllowedOrigin(url: string, allowed: readonly string[]): boolean {
  const origin = originOf(url);
  return origin !== null && allowed.includes(origin);
}

/**
 * The app's origins: `app://vigil`, plus the Vite dev server's while developing. The caller passes
 * `devServerUrl` only when the app is not packaged, so an environment variable cannot widen a
 * shipped app's trust.
 */
export function appOrigins(devServerUrl?: string): string[] {
  const origins = [APP_ORIGIN];
  if (devServerUrl) {
    const dev = originOf(devServerUrl);
    if (dev === null) throw new Error(`ELECTRON_RENDERER_URL is not an http(s) URL: ${devServerUrl}`);
    origins.push(dev);
  }
  return origins;
}
