/**
 * The Events page's two lists — alerts (`alerts.list`) and state transitions (`events.list`) — newest
 * first, paged with the API's cursor (`next` → `before`), and kept live: the page re-reads the head
 * of a list when an event says something new happened, and merges it with what is loaded.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape, Envelope } from '../../../shared/errors';
import type { AlertRecord, EventRecord, Page } from '../../../shared/history';
import type { EventFilters } from '../lib/event-filters';
import { filtersKey, timeBounds } from '../lib/event-filters';

export const PAGE_SIZE = 50;
/**
 * `alerts.list` filters neither by time nor by acknowledged vs cleared: those are applied here, and
 * a page that they thin out is topped up from the following ones, at most this many requests deep.
 */
const MAX_REQUESTS_PER_PAGE = 10;

type Fetcher<T> = (
  api: VigilApi,
  f: EventFilters,
  bounds: { from?: number; to?: number },
  before: number | undefined,
) => Promise<Envelope<Page<T>>>;

export interface FeedState<T> {
  key: string | null;
  items: readonly T[];
  next: number | null;
  /** The first page: loading, loaded, or failed (then `error`). */
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: ApiErrorShape | null;
  loadingMore: boolean;
  moreError: ApiErrorShape | null;
}

export interface Feed<T> {
  use: UseBoundStore<StoreApi<FeedState<T>>>;
  /** (Re)loads the first page for these filters; the same filters keep their rows on screen meanwhile. */
  load(api: VigilApi, f: EventFilters): Promise<void>;
  loadMore(api: VigilApi, f: EventFilters): Promise<void>;
  /** Re-reads the first page and merges it in: new items appear at the top, changed ones update. */
  refreshHead(api: VigilApi, f: EventFilters): Promise<void>;
  /** Replaces one loaded item (an alert acknowledged or cleared). */
  patch(item: T): void;
}

interface Item {
  id: number;
  at: number;
}

const newestFirst = (a: Item, b: Item): number => b.at - a.at || b.id - a.id;

function createFeed<T extends Item>(fetchPage: Fetcher<T>): Feed<T> {
  const use = create<FeedState<T>>()(() => ({
    key: null,
    items: [],
    next: null,
    status: 'idle',
    error: null,
    loadingMore: false,
    moreError: null,
  }));
  // The bounds of a relative range are fixed when the first page loads, so paging stays consistent.
  let bounds: { from?: number; to?: number } = {};
  let seq = 0;

  return {
    use,
    async load(api, f) {
      const key = filtersKey(f);
      const same = use.getState().key === key;
      const mine = ++seq;
      bounds = timeBounds(f, Date.now());
      use.setState({
        key,
        status: 'loading',
        error: null,
        moreError: null,
        loadingMore: false,
        ...(!same && { items: [], next: null }),
      });
      const res = await fetchPage(api, f, bounds, undefined);
      if (mine !== seq) return; // the filters changed meanwhile
      if (res.ok) use.setState({ items: res.result.items, next: res.result.next, status: 'ready' });
      else use.setState({ items: [], next: null, status: 'error', error: res.error });
    },
    async loadMore(api, f) {
      const s = use.getState();
      if (s.loadingMore || s.next === null || s.key !== filtersKey(f)) return;
      const mine = seq;
      use.setState({ loadingMore: true, moreError: null });
      const res = await fetchPage(api, f, bounds, s.next);
      if (mine !== seq) return;
      if (!res.ok) {
        use.setState({ loadingMore: false, moreError: res.error });
        return;
      }
      use.setState((cur) => {
        const seen = new Set(cur.items.map((i) => i.id));
        return {
          items: [...cur.items, ...res.result.items.filter((i) => !seen.has(i.id))],
          next: res.result.next,
          loadingMore: false,
        };
      });
    },
    async refreshHead(api, f) {
      const s = use.getState();
      if (s.status !== 'ready' || s.key !== filtersKey(f)) return;
      const mine = seq;
      const head = timeBounds(f, Date.now());
      const res = await fetchPage(api, f, head, undefined);
      if (mine !== seq || !res.ok) return; // a failed refresh leaves the list as it was
      use.setState((cur) => {
        const byId = new Map(cur.items.map((i) => [i.id, i]));
        const joins = res.result.next === null || res.result.items.some((i) => byId.has(i.id));
        // More happened than one page holds: the head alone is the list now, paged from its end.
        if (cur.items.length === 0 || !joins) return { items: res.result.items, next: res.result.next };
        for (const item of res.result.items) byId.set(item.id, item);
        return { items: [...byId.values()].sort(newestFirst) };
      });
    },
    patch(item) {
      use.setState((cur) => ({ items: cur.items.map((i) => (i.id === item.id ? item : i)) }));
    },
  };
}

const alertMatches =
  (f: EventFilters, bounds: { from?: number; to?: number }) =>
  (a: AlertRecord): boolean =>
    (f.status !== 'acknowledged' || a.acknowledgedAt !== null) &&
    (f.status !== 'cleared' || a.clearedAt !== null) &&
    (bounds.from === undefined || a.at >= bounds.from) &&
    (bounds.to === undefined || a.at <= bounds.to);

const fetchAlerts: Fetcher<AlertRecord> = async (api, f, bounds, before) => {
  const matches = alertMatches(f, bounds);
  const items: AlertRecord[] = [];
  let cursor = before;
  for (let i = 0; i < MAX_REQUESTS_PER_PAGE; i += 1) {
    const res = await api.alerts.list({
      ...(f.service !== null && { service: f.service }),
      ...(f.kind !== null && { kind: f.kind }),
      ...(f.status !== 'all' && { open: f.status === 'open' }),
      limit: PAGE_SIZE,
      ...(cursor !== undefined && { before: cursor }),
    });
    if (!res.ok) return i === 0 ? res : { ok: true, result: { items, next: cursor ?? null } };
    items.push(...res.result.items.filter(matches));
    const last = res.result.items.at(-1);
    // Newest first: past the start of the range, nothing further can match.
    const exhausted =
      res.result.next === null || (bounds.from !== undefined && last !== undefined && last.at < bounds.from);
    if (exhausted) return { ok: true, result: { items, next: null } };
    cursor = res.result.next!;
    if (items.length >= PAGE_SIZE) break;
  }
  return { ok: true, result: { items, next: cursor ?? null } };
};

const fetchTransitions: Fetcher<EventRecord> = (api, f, bounds, before) =>
  api.events.list({
    ...(f.service !== null && { service: f.service }),
    ...(f.state !== null && { states: [f.state] }),
    ...bounds,
    limit: PAGE_SIZE,
    ...(before !== undefined && { before }),
  });

export const alertFeed = createFeed(fetchAlerts);
export const transitionFeed = createFeed(fetchTransitions);
