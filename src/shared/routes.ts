/**
 * The renderer's hash routes (`#/services/selfcheck` → { page: 'services', param: 'selfcheck' }),
 * shared so main can open the window on a page (a notification's service, the Events page).
 */

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
