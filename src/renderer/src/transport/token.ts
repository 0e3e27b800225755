/**
 * The headless server's access token. It arrives once in the page URL; we keep it in sessionStorage
 * (this tab only) and take it out of the address bar so it is not left in history or screenshots.
 */
import { TOKEN_PARAM } from '../../../shared/wire';

const STORAGE_KEY = 'vigil.token';

export function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get(TOKEN_PARAM);
  if (fromUrl !== null) {
    url.searchParams.delete(TOKEN_PARAM);
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    if (fromUrl !== '') {
      saveToken(fromUrl);
      return fromUrl;
    }
  }
  return readStored();
}

export function saveToken(token: string): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // Storage can be disabled; the token then lives only as long as this page.
  }
}

function readStored(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}
