/**
 * Opening the window on a page (a notification's service, the Events page). The renderer routes by
 * the URL's hash, so main loads the window's own URL with the route as its fragment: Chromium treats
 * a change of fragment alone as a same-document navigation (the page's hashchange fires, nothing
 * reloads), and this needs no extra IPC channel or script injection. The same URL again is skipped:
 * whether Chromium then reloads or does nothing has changed between versions (electron#46469).
 */
import { isAllowedOrigin } from './origins';

/** What hrefFor (src/shared/routes) makes: `#/page` or `#/page/param`, param URI-encoded. */
const HASH_ROUTE = /^#\/[A-Za-z0-9\-._~%!$'()*+,;=:@/]*$/;

/**
 * The URL that shows `route` in a window now at `currentUrl`, or null when it shows it already.
 * A window still on about:blank (or anywhere not ours) gets the app's entry page.
 */
export function urlForRoute(
  currentUrl: string,
  route: string,
  entryUrl: string,
  origins: readonly string[],
): string | null {
  if (!HASH_ROUTE.test(route)) throw new Error(`not a hash route of the app: ${JSON.stringify(route)}`);
  const url = new URL(isAllowedOrigin(currentUrl, origins) ? currentUrl : entryUrl);
  url.hash = route;
  return url.href === currentUrl ? null : url.href;
}
