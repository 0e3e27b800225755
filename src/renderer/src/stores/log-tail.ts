/**
 * The log tail of the service on screen: the recent lines (`services.logs`), then the live ones
 * (`service.log`), in a bounded ring outside React state; on request, older lines before them
 * (`services.logs` with `before`, which reads the rotated log files too). The store publishes a
 * snapshot at most every PUBLISH_MS, so a chatty service costs one render per interval, not one per line.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { LogLine } from '../../../shared/services';
import { isLogLine, LineRing } from '../lib/service-log';

/** Lines kept on this side; older ones are dropped (the log file on disk has them all). */
export const LOG_CAPACITY = 5000;
/** What `services.logs` is asked for first, and per "load older" (its maximum). */
const PAGE_LINES = 2000;
/** Older lines kept in front of the ring; beyond it the oldest of them go (and can be loaded again). */
export const MAX_OLDER = 20_000;
const PUBLISH_MS = 100;

interface LogTailStore {
  service: string | null;
  /** Oldest first, at most LOG_CAPACITY; a new array on each publish. */
  lines: readonly LogLine[];
  /** Lines received since the tail was opened (read and live): grows while lines are dropped. */
  total: number;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: ApiErrorShape | null;
  /** Loading older lines; `start`: the first line shown is the oldest the log files still have. */
  older: 'idle' | 'loading' | 'start' | 'error';
  olderError: ApiErrorShape | null;
}

export const useLogTailStore = create<LogTailStore>()(() => ({
  service: null,
  lines: [],
  total: 0,
  status: 'idle',
  error: null,
  older: 'idle',
  olderError: null,
}));

const ring = new LineRing(LOG_CAPACITY);
/** Lines before the ring's, oldest first: what "load older" brought, and what the ring pushed out since. */
let older: LogLine[] = [];
let session = 0;
/** Loads the lines before the oldest one shown (set while a tail is open). */
let loadOlderOf: (() => Promise<void>) | null = null;

function snapshot(): LogLine[] {
  const recent = ring.toArray();
  return older.length === 0 ? recent : older.concat(recent);
}

/** Reads the lines before the oldest one shown, from the log files where needed. */
export function loadOlderLines(): Promise<void> {
  return loadOlderOf?.() ?? Promise.resolve();
}

/** Loads and follows one service's output until the returned function is called. */
export function followLog(api: VigilApi, name: string): () => void {
  const mine = ++session;
  ring.clear();
  older = [];
  let lastSeq = 0;
  let total = 0;
  let loaded = false;
  const early: LogLine[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  useLogTailStore.setState({
    service: name,
    lines: [],
    total: 0,
    status: 'loading',
    error: null,
    older: 'idle',
    olderError: null,
  });

  const publishNow = (): void => {
    if (mine === session) useLogTailStore.setState({ lines: snapshot(), total });
  };
  const publish = (): void => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      publishNow();
    }, PUBLISH_MS);
  };
  // Sequence numbers grow per service log: a line read and also heard live is kept once.
  const add = (line: LogLine): void => {
    if (line.seq <= lastSeq) return;
    lastSeq = line.seq;
    // Older lines are shown: what the ring pushes out stays, in front, so nothing goes missing between.
    const out = ring.push(line);
    if (out !== null && older.length > 0) {
      older.push(out);
      if (older.length > MAX_OLDER) trimOlder();
    }
    total += 1;
  };
  const trimOlder = (): void => {
    older = older.slice(older.length - MAX_OLDER);
    if (useLogTailStore.getState().older === 'start') useLogTailStore.setState({ older: 'idle' });
  };

  loadOlderOf = async () => {
    const state = useLogTailStore.getState();
    const oldest = older[0] ?? ring.first();
    if (mine !== session || state.older === 'loading' || state.older === 'start' || oldest === null) return;
    useLogTailStore.setState({ older: 'loading', olderError: null });
    const res = await api.services.logs({ name, lines: PAGE_LINES, before: oldest.seq });
    if (mine !== session) return;
    if (!res.ok) {
      useLogTailStore.setState({ older: 'error', olderError: res.error });
      return;
    }
    // The first line may have changed meanwhile only by the ring pushing it into `older`: still in order.
    const first = older[0] ?? ring.first();
    const lines = res.result.filter((l) => isLogLine(l) && (first === null || l.seq < first.seq));
    older = lines.concat(older);
    total += lines.length;
    if (older.length > MAX_OLDER) trimOlder();
    // Fewer than asked for: nothing older is left in the files.
    useLogTailStore.setState({ older: res.result.length < PAGE_LINES ? 'start' : 'idle' });
    publishNow();
  };

  const offLog = api.on('service.log', (payload) => {
    if (mine !== session || payload?.service !== name || !Array.isArray(payload.lines)) return;
    const lines = payload.lines.filter(isLogLine);
    if (!loaded) {
      early.push(...lines);
      return;
    }
    for (const line of lines) add(line);
    publish();
  });
  const offRemoved = api.on('service.removed', (payload) => {
    if (mine !== session || payload?.name !== name) return;
    ring.clear();
    older = [];
    lastSeq = 0;
    useLogTailStore.setState({ older: 'idle', olderError: null });
    publishNow();
  });

  void api.services.logs({ name, lines: PAGE_LINES }).then((res) => {
    if (mine !== session) return;
    loaded = true;
    if (res.ok) for (const line of res.result) add(line);
    for (const line of early) add(line);
    early.length = 0;
    useLogTailStore.setState({
      lines: snapshot(),
      total,
      status: res.ok ? 'ready' : 'error',
      error: res.ok ? null : res.error,
    });
  });

  return () => {
    offLog();
    offRemoved();
    if (timer !== null) clearTimeout(timer);
    if (mine === session) {
      session += 1;
      loadOlderOf = null;
    }
  };
}
