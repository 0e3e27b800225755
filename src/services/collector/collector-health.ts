/**
 * A collector's health, from what it knows: degraded (never restarted) while a connection is down, a
 * continuous stream is stale or a book is out of sync for long, so an exchange outage never becomes a
 * restart storm. Reported only when it changes.
 */
import type { MarketDataType } from '../../shared/market';
import type { StreamStats } from './stream-stats';

/** Polled data, liquidations and index values come when they come: only these can be stale. */
const CONTINUOUS = new Set(['book', 'trade', 'top', 'funding']);
/** A book may take this long to sync after start before it counts against health. */
const SYNC_GRACE_MS = 10_000;

export interface HealthInputs {
  /** Names of the connections that are down. */
  down: string[];
  stats: StreamStats;
  staleAfterMs: number;
  /** Data types pushed more slowly than `staleAfterMs` (OKX funding: every 30–90 s) get this long. */
  staleFloorMs?: Partial<Record<MarketDataType, number>>;
  startedAt: number;
  /** Symbols whose book is not in sync. */
  unsynced: string[];
  /** Anything else the venue wants said (e.g. instrument metadata missing). */
  other?: string[];
}

export class CollectorHealth {
  private last = '';

  constructor(private readonly report: (health: 'healthy' | 'degraded', message: string) => void) {}

  check(i: HealthInputs, now = Date.now()): void {
    const problems: string[] = [];
    if (i.down.length > 0) problems.push(`not connected: ${i.down.join(', ')}`);
    const typeOf = (stream: string): string => stream.split('.').at(-1)!;
    const floors = i.staleFloorMs ?? {};
    const slow = (stream: string): boolean => typeOf(stream) in floors;
    const stale = i.stats
      .stale(i.staleAfterMs, i.startedAt)
      .filter((s) => CONTINUOUS.has(typeOf(s)) && !slow(s));
    for (const [type, floor] of Object.entries(floors)) {
      if (!CONTINUOUS.has(type)) continue;
      const limit = Math.max(i.staleAfterMs, floor);
      stale.push(...i.stats.stale(limit, i.startedAt).filter((s) => typeOf(s) === type));
    }
    if (stale.length > 0)
      problems.push(`stale: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? '…' : ''}`);
    if (i.unsynced.length > 0 && now - i.startedAt > SYNC_GRACE_MS)
      problems.push(`book not in sync: ${i.unsynced.join(', ')}`);
    problems.push(...(i.other ?? []));
    const health = problems.length > 0 ? 'degraded' : 'healthy';
    const message = problems.length > 0 ? problems.join('; ') : 'all streams live';
    const key = `${health}:${message}`;
    if (key === this.last) return;
    this.last = key;
    this.report(health, message.slice(0, 500));
  }
}
