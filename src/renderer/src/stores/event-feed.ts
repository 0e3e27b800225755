/**
 * The Events page's two lists — alerts (`alerts.list`) and state transitions (`events.list`) — newest
 * first, filtered by the API, paged with its cursor (`next` → `before`), and kept live by the events:
 * a `service.alert` or `service.transition` carries the id its row has in the history, so a live row
 * is added at once and never doubles a row a page read back.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape, Envelope } from '../../../shared/errors';
import type { AlertRecord, EventRecord, Page } from '../../../shared/history';
import type { EventFilters } from '../lib/event-filters';
import { filtersKey, timeBounds } from '../lib/event-filters';

export const PAGE_SIZE = 50;
/** Rows kept while live rows keep coming; the oldest go, and "load older" pages back to them. */
export const MAX_ITEMS = 1000;

interface Bounds {
  from?: number;
  to?: number;
}

type Fetcher<T> = (
  api: VigilApi,
  f: EventFilters,
  bounds: Bounds,
  before: number | undefined,
) => Promise<Envelope<Page<T>>>;

/** Whether a row belongs in the list these filters (and time bounds) describe. */
type Matcher<T> = (f: EventFilters, bounds: Bounds) => (item: T) => boolean;

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
  /** A row that just happened (from an event), if these filters show it; once, whatever pages bring. */
  addLive(item: T, f: EventFilters): void;
  /** Replaces one loaded item (an alert acknowledged or cleared). */
  patch(item: T): void;
}

interface Item {
  id: number;
  at: number;
}

const newestFirst = (a: Item, b: Item): number => b.at - a.at || b.id - a.id;

/**
 * `items` with the ones of `more` it does not have yet (by id: the row already there wins, it is
 * the newer truth), newest first, at most MAX_ITEMS: the cursor then points past the last one kept.
 */
function merge<T extends Item>(
  items: readonly T[],
  more: readonly T[],
  next: number | null,
): { items: T[]; next: number | null } {
  const byId = new Map(items.map((i) => [i.id, i]));
  for (const item of more) if (!byId.has(item.id)) byId.set(item.id, item);
  const all = [...byId.values()].sort(newestFirst);
  if (all.length <= MAX_ITEMS) return { items: all, next };
  const kept = all.slice(0, MAX_ITEMS);
  return { items: kept, next: kept.at(-1)!.id };
}

function createFeed<T extends Item>(fetchPage: Fetcher<T>, matches: Matcher<T>): Feed<T> {
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
  let bounds: Bounds = {};
  let seq = 0;
  /** Live rows that arrived while the first page was loading: merged into it when it comes. */
  let arrived: T[] = [];

  return {
    use,
    async load(api, f) {
      const key = filtersKey(f);
      const same = use.getState().key === key;
      const mine = ++seq;
      bounds = timeBounds(f, Date.now());
      arrived = [];
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
      if (res.ok) use.setState({ ...merge(res.result.items, arrived, res.result.next), status: 'ready' });
      else use.setState({ items: [], next: null, status: 'error', error: res.error });
      arrived = [];
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
    addLive(item, f) {
      const s = use.getState();
      if (s.key !== filtersKey(f) || !matches(f, bounds)(item)) return;
      if (s.status === 'loading') arrived.push(item);
      else if (s.status === 'ready') use.setState((cur) => merge(cur.items, [item], cur.next));
    },
    patch(item) {
      use.setState((cur) => ({ items: cur.items.map((i) => (i.id === item.id ? item : i)) }));
    },
  };
}

const inBounds = (at: number, b: Bounds): boolean =>
  (b.from === undefined || at >= b.from) && (b.to === undefined || at < b.to);

const alertMatches: Matcher<AlertRecord> = (f, bounds) => (a) =>
  (f.service === null || a.service === f.service) &&
  (f.kind === null || a.kind === f.kind) &&
  (f.status === 'all' ||
    (f.status === 'open' && a.acknowledgedAt === null && a.clearedAt === null) ||
    (f.status === 'acknowledged' && a.acknowledgedAt !== null) ||
    (f.status === 'cleared' && a.clearedAt !== null)) &&
  inBounds(a.at, bounds);

const transitionMatches: Matcher<EventRecord> = (f, bounds) => (e) =>
  (f.service === null || e.service === f.service) &&
  (f.state === null || e.to === f.state) &&
  inBounds(e.at, bounds);

const fetchAlerts: Fetcher<AlertRecord> = (api, f, bounds, before) =>
  api.alerts.list({
    ...(f.service !== null && { service: f.service }),
    ...(f.kind !== null && { kind: f.kind }),
    ...(f.status !== 'all' && { state: f.status }),
    ...bounds,
    limit: PAGE_SIZE,
    ...(before !== undefined && { before }),
  });

const fetchTransitions: Fetcher<EventRecord> = (api, f, bounds, before) =>
  api.events.list({
    ...(f.service !== null && { service: f.service }),
    ...(f.state !== null && { states: [f.state] }),
    ...bounds,
    limit: PAGE_SIZE,
    ...(before !== undefined && { before }),
  });

export const alertFeed = createFeed(fetchAlerts, alertMatches);
export const transitionFeed = createFeed(fetchTransitions, transitionMatches);
