/** Hash routing in the window: the routes themselves are defined in src/shared/routes. */
import { useSyncExternalStore } from 'react';
import { parseHash, type Route } from '../../../shared/routes';

export { hrefFor, pageIds, parseHash, type PageId, type Route } from '../../../shared/routes';

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

const snapshot = (): string => window.location.hash;

export function useRoute(): Route {
  return parseHash(useSyncExternalStore(subscribe, snapshot));
}
