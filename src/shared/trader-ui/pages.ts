/**
 * The fills blotter and the order history as pages of a list, newest first: a fresh newest page
 * (read again when the trader reports a new fill or order) merged with the older pages already shown,
 * each row once, and never more than a bound.
 *
 * In src/shared only so plain Node tests can import it; only the renderer uses it.
 */
import type { TraderPage } from '../trader-api';

export interface PagedList<T> {
  items: (T & { seq: number })[];
  /** `before` for the next older page; null: the end. */
  next: number | null;
}

export const emptyList = <T>(): PagedList<T> => ({ items: [], next: null });

/** Rows kept at most: older pages beyond this are dropped (read them again with Older). */
export const MAX_ROWS = 2_000;

/**
 * The newest page read again, over what is shown: where it overlaps the rows shown, the rows shown
 * older than it stay (with their `next`); where it does not (more arrived than a page holds), it
 * replaces them, since the rows between would be missing.
 */
export function mergeNewest<T>(shown: PagedList<T>, newest: TraderPage<T>): PagedList<T> {
  // A page without a next is the whole list.
  if (shown.items.length === 0 || newest.next === null)
    return bound({ items: newest.items, next: newest.next });
  const oldestNew = Math.min(...newest.items.map((i) => i.seq));
  const newestShown = Math.max(...shown.items.map((i) => i.seq));
  // Only a page that reaches the rows shown joins them without a gap.
  if (oldestNew > newestShown) return { items: newest.items, next: newest.next };
  const older = shown.items.filter((i) => i.seq < oldestNew);
  return bound({
    items: [...newest.items, ...older],
    next: older.length > 0 ? shown.next : newest.next,
  });
}

/** An older page appended below what is shown (rows already shown are not repeated). */
export function appendOlder<T>(shown: PagedList<T>, older: TraderPage<T>): PagedList<T> {
  const seen = new Set(shown.items.map((i) => i.seq));
  return bound({ items: [...shown.items, ...older.items.filter((i) => !seen.has(i.seq))], next: older.next });
}

function bound<T>(list: PagedList<T>): PagedList<T> {
  if (list.items.length <= MAX_ROWS) return list;
  const items = list.items.slice(0, MAX_ROWS);
  return { items, next: items.at(-1)!.seq };
}
