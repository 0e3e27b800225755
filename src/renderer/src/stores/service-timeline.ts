/**
 * The state timeline of the service on screen: its transitions from `events.list` (newest first,
 * paged with the API's cursor), kept live by `service.transition` without re-reading anything.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { TimelineEntry } from '../lib/service-timeline';
import { entryOfRecord, entryOfTransition, isTransition, mergeEntries } from '../lib/service-timeline';

const PAGE_SIZE = 200;
/** Entries kept; beyond it the oldest go (the Events page pages through all of them). */
const MAX_ENTRIES = 2000;

interface TimelineStore {
  service: string | null;
  /** Newest first. */
  items: readonly TimelineEntry[];
  /** The cursor of older entries (null: none, or they were cut off). */
  next: number | null;
  /** Older entries were dropped to stay within MAX_ENTRIES. */
  trimmed: boolean;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: ApiErrorShape | null;
  loadingMore: boolean;
  moreError: ApiErrorShape | null;
}

export const useTimelineStore = create<TimelineStore>()(() => ({
  service: null,
  items: [],
  next: null,
  trimmed: false,
  status: 'idle',
  error: null,
  loadingMore: false,
  moreError: null,
}));

let session = 0;

function capped(items: TimelineEntry[]): Pick<TimelineStore, 'items'> & Partial<TimelineStore> {
  if (items.length <= MAX_ENTRIES) return { items };
  return { items: items.slice(0, MAX_ENTRIES), next: null, trimmed: true };
}

/** Loads and follows one service's transitions until the returned function is called. */
export function followTimeline(api: VigilApi, name: string): () => void {
  const mine = ++session;
  useTimelineStore.setState({
    service: name,
    items: [],
    next: null,
    trimmed: false,
    status: 'loading',
    error: null,
    loadingMore: false,
    moreError: null,
  });
  const off = api.on('service.transition', (payload) => {
    if (mine !== session || !isTransition(payload) || payload.service !== name) return;
    useTimelineStore.setState((s) => capped(mergeEntries([entryOfTransition(payload)], s.items)));
  });
  void api.events.list({ service: name, limit: PAGE_SIZE }).then((res) => {
    if (mine !== session) return;
    if (!res.ok) {
      useTimelineStore.setState({ status: 'error', error: res.error });
      return;
    }
    useTimelineStore.setState((s) => ({
      ...capped(mergeEntries(s.items, res.result.items.map(entryOfRecord))),
      next: res.result.next,
      status: 'ready',
      error: null,
    }));
  });
  return () => {
    off();
    if (mine === session) session += 1;
  };
}

export async function loadOlderTransitions(api: VigilApi): Promise<void> {
  const { service, next, loadingMore } = useTimelineStore.getState();
  if (service === null || next === null || loadingMore) return;
  const mine = session;
  useTimelineStore.setState({ loadingMore: true, moreError: null });
  const res = await api.events.list({ service, limit: PAGE_SIZE, before: next });
  if (mine !== session) return;
  if (!res.ok) {
    useTimelineStore.setState({ loadingMore: false, moreError: res.error });
    return;
  }
  useTimelineStore.setState((s) => ({
    next: res.result.next,
    ...capped(mergeEntries(s.items, res.result.items.map(entryOfRecord))),
    loadingMore: false,
  }));
}
