/**
 * A service's state timeline as the detail shows it: entries from `events.list` (the history) and
 * from `service.transition` (live) in one shape, and the restart history derived from them.
 */
import type { EventRecord } from '../../../shared/history';
import { recordOfTransition } from '../../../shared/history';
import type { ServiceHealth, ServiceState, ServiceTransitionEvent } from '../../../shared/services';

export interface TimelineEntry {
  /** The transition's id in the history: a transition seen live and then read back appears once. */
  id: number;
  key: string;
  at: number;
  from: ServiceState;
  to: ServiceState;
  health: ServiceHealth | null;
  reason: string;
  exitCode: number | null;
  exitSignal: string | null;
  restarts: number;
  nextRestartAt: number | null;
}

export function entryOfRecord(e: EventRecord): TimelineEntry {
  return {
    id: e.id,
    key: String(e.id),
    at: e.at,
    from: e.from,
    to: e.to,
    health: e.health,
    reason: e.reason,
    exitCode: e.exitCode,
    exitSignal: e.exitSignal,
    restarts: e.restarts,
    nextRestartAt: e.nextRestartAt,
  };
}

export function entryOfTransition(t: ServiceTransitionEvent): TimelineEntry {
  return entryOfRecord(recordOfTransition(t));
}

export function isTransition(value: unknown): value is ServiceTransitionEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'number' &&
    typeof v.service === 'string' &&
    typeof v.from === 'string' &&
    typeof v.to === 'string' &&
    typeof v.reason === 'string' &&
    typeof v.at === 'number'
  );
}

/** Newest first, each entry once. */
export function mergeEntries(a: readonly TimelineEntry[], b: readonly TimelineEntry[]): TimelineEntry[] {
  const seen = new Set<number>();
  const out: TimelineEntry[] = [];
  for (const e of [...a, ...b]) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
  }
  return out.sort((x, y) => y.at - x.at || y.id - x.id);
}

export function describeExitOf(e: { exitCode: number | null; exitSignal: string | null }): string | null {
  if (e.exitSignal !== null) return e.exitSignal;
  if (e.exitCode !== null) return `code ${e.exitCode}`;
  return null;
}

export interface RestartRecord {
  key: string;
  /** When it started again (or, for `pending` and `gave-up`, when it went into backoff / fatal). */
  at: number;
  /** automatic: after a failure, by the policy; manual: a person restarted it; pending: waiting now. */
  kind: 'automatic' | 'manual' | 'pending' | 'gave-up';
  /** Why: the exit that caused it, or the request. */
  cause: string;
  exit: string | null;
  /** The delay the backoff chose, and how long it really waited until the start. */
  plannedMs: number | null;
  waitedMs: number | null;
  nextRestartAt: number | null;
  /** The lifetime restart count after this restart. */
  restarts: number;
}

const AUTOMATIC = /^restart \d+ after: /;

/** Restarts (and the backoff each took), newest first, from a timeline (newest first). */
export function restartHistory(entries: readonly TimelineEntry[]): RestartRecord[] {
  const out: RestartRecord[] = [];
  let prev: TimelineEntry | null = null;
  let backoff: TimelineEntry | null = null;
  let lastStop: TimelineEntry | null = null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.to === 'backoff') backoff = e;
    if (e.to === 'stopped' || e.to === 'stopping') lastStop = e;
    if (e.to === 'fatal' && e.from !== 'fatal') {
      out.push({
        key: e.key,
        at: e.at,
        kind: 'gave-up',
        cause: e.reason,
        exit: describeExitOf(e),
        plannedMs: null,
        waitedMs: null,
        nextRestartAt: null,
        restarts: e.restarts,
      });
    }
    const counted = prev !== null && e.restarts > prev.restarts;
    if (e.to === 'starting' && (counted || AUTOMATIC.test(e.reason))) {
      const auto = AUTOMATIC.test(e.reason) || (prev?.to === 'backoff' && backoff !== null);
      if (auto && backoff) {
        out.push({
          key: e.key,
          at: e.at,
          kind: 'automatic',
          cause: backoff.reason.replace(/; restarting in .*$/, ''),
          exit: describeExitOf(backoff),
          plannedMs: backoff.nextRestartAt === null ? null : Math.max(0, backoff.nextRestartAt - backoff.at),
          waitedMs: Math.max(0, e.at - backoff.at),
          nextRestartAt: null,
          restarts: e.restarts,
        });
      } else {
        out.push({
          key: e.key,
          at: e.at,
          kind: auto ? 'automatic' : 'manual',
          cause: auto ? e.reason.replace(AUTOMATIC, '') : e.reason,
          exit: lastStop ? describeExitOf(lastStop) : null,
          plannedMs: null,
          waitedMs: null,
          nextRestartAt: null,
          restarts: e.restarts,
        });
      }
      backoff = null;
      lastStop = null;
    }
    prev = e;
  }
  // Waiting in backoff right now: the restart to come.
  const newest = entries[0];
  if (newest && newest.to === 'backoff') {
    out.push({
      key: `pending-${newest.key}`,
      at: newest.at,
      kind: 'pending',
      cause: newest.reason.replace(/; restarting in .*$/, ''),
      exit: describeExitOf(newest),
      plannedMs: newest.nextRestartAt === null ? null : Math.max(0, newest.nextRestartAt - newest.at),
      waitedMs: null,
      nextRestartAt: newest.nextRestartAt,
      restarts: newest.restarts,
    });
  }
  return out.sort((a, b) => b.at - a.at);
}
