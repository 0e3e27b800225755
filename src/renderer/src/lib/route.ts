/** Hash routing: `#/services/selfcheck` → { page: 'services', param: 'selfcheck' }. */
import { useSyncExternalStore } from 'react';

export const pageIds = [
  'dashboard',
  'services',
  'market',
  'optimizer',
  'trader',
  'events',
  'settings',
] as const;
export type PageId = (typeof pageIds)[number];

export interface Route {
  page: PageId;
  param: string | null;
}

function isPageId(value: string): value is PageId {
  return (pageIds as readonly string[]).includes(value);
}

export function parseHash(hash: string): Route {
  const [first = '', second] = hash.replace(/^#\/?/, '').split('/');
  const page = isPageId(first) ? first : 'dashboard';
  return { page, param: second ? decodeURIComponent(second) : null };
}

export function hrefFor(page: PageId, param?: string): string {
  return param === undefined ? `#/${page}` : `#/${page}/${encodeURIComponent(param)}`;
}

function subscribe(listener: () => void): () => void {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
}

const snapshot = (): string => window.location.hash;

export function useRoute(): Route {
  return parseHash(useSyncExternalStore(subscribe, snapshot));
}
