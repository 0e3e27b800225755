/**
 * The log tail of the service on screen: the recent lines (`services.logs`), then the live ones
 * (`service.log`), in a bounded ring outside React state. The store publishes a snapshot of the ring
 * at most every PUBLISH_MS, so a chatty service costs one render per interval, not one per line.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { LogLine } from '../../../shared/services';
import { isLogLine, LineRing } from '../lib/service-log';

/** Lines kept on this side; older ones are dropped (the log file on disk has them all). */
export const LOG_CAPACITY = 5000;
/** What `services.logs` is asked for first (its maximum). */
const INITIAL_LINES = 2000;
const PUBLISH_MS = 100;

interface LogTailStore {
  service: string | null;
  /** Oldest first, at most LOG_CAPACITY; a new array on each publish. */
  lines: readonly LogLine[];
  /** Lines received since the tail was opened (read and live): grows while lines are dropped. */
  total: number;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: ApiErrorShape | null;
}

export const useLogTailStore = create<LogTailStore>()(() => ({
  service: null,
  lines: [],
  total: 0,
  status: 'idle',
  error: null,
}));

const ring = new LineRing(LOG_CAPACITY);
let session = 0;

/** Loads and follows one service's output until the returned function is called. */
export function followLog(api: VigilApi, name: string): () => void {
  const mine = ++session;
  ring.clear();
  let lastSeq = 0;
  let total = 0;
  let loaded = false;
  const early: LogLine[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  useLogTailStore.setState({ service: name, lines: [], total: 0, status: 'loading', error: null });

  const publishNow = (): void => {
    if (mine === session) useLogTailStore.setState({ lines: ring.toArray(), total });
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
    ring.push(line);
    total += 1;
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
    lastSeq = 0;
    publishNow();
  });

  void api.services.logs({ name, lines: INITIAL_LINES }).then((res) => {
    if (mine !== session) return;
    loaded = true;
    if (res.ok) for (const line of res.result) add(line);
    for (const line of early) add(line);
    early.length = 0;
    useLogTailStore.setState({
      lines: ring.toArray(),
      total,
      status: res.ok ? 'ready' : 'error',
      error: res.ok ? null : res.error,
    });
  });

  return () => {
    offLog();
    offRemoved();
    if (timer !== null) clearTimeout(timer);
    if (mine === session) session += 1;
  };
}
