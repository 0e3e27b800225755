/** The bus as a child gets it: the backend and addresses come from the supervisor (VIGIL_BUS). */
import { childEnv, type BusSubscriberReport, type ChildBusConfig } from '../../shared/child-protocol';
import { EmbeddedBus } from '../bus/embedded';
import type { Bus, BusMetrics } from '../bus/types';

export function busConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ChildBusConfig | null {
  const raw = env[childEnv.bus];
  if (!raw) return null;
  try {
    const c = JSON.parse(raw) as ChildBusConfig;
    if (c.backend === 'embedded' && typeof c.listen === 'string' && Array.isArray(c.peers)) return c;
    if (c.backend === 'nats' && typeof c.servers === 'string') return c;
  } catch {
    // fall through: a malformed value is the supervisor's bug, reported below
  }
  throw new Error(`${childEnv.bus} is not a bus configuration: ${raw.slice(0, 200)}`);
}

export async function openBus(config: ChildBusConfig, service: string): Promise<Bus> {
  if (config.backend === 'embedded') {
    return EmbeddedBus.open({ listen: config.listen, peers: config.peers, id: service });
  }
  // Loaded only when chosen: children on the embedded bus never load the NATS client.
  const { NatsBus } = await import('../bus/nats');
  return NatsBus.connect({ servers: config.servers, name: service });
}

/** The bus counters a child reports to the supervisor with its metrics (recorded as history). */
export function busMetrics(m: BusMetrics): Record<string, number> {
  return {
    'bus.published': m.published,
    'bus.delivered': m.delivered,
    'bus.dropped': m.dropped,
    'bus.rejected': m.rejected,
    'bus.subscribers': m.subscribers.length,
    'bus.maxQueueDepth': Math.max(0, ...m.subscribers.map((s) => s.queueDepth)),
  };
}

/**
 * Turns successive bus metrics into per-subscriber reports with rates, for the supervisor (1 Hz): the
 * depth, drops and rate of each subscriber, so the one falling behind is named, not averaged away.
 */
export function busReporter(): (m: BusMetrics, now?: number) => BusSubscriberReport[] {
  let previous = new Map<string, { delivered: number; dropped: number }>();
  let previousAt = 0;
  return (m, now = Date.now()) => {
    const seconds = previousAt > 0 ? Math.max(0.001, (now - previousAt) / 1000) : 0;
    const next = new Map<string, { delivered: number; dropped: number }>();
    const reports = m.subscribers.slice(0, 200).map((s): BusSubscriberReport => {
      const before = previous.get(s.id);
      next.set(s.id, { delivered: s.delivered, dropped: s.dropped });
      const rate = (now: number, then: number | undefined): number =>
        seconds > 0 && then !== undefined ? Math.max(0, now - then) / seconds : 0;
      return {
        id: s.id.slice(0, 200),
        patterns: s.patterns.slice(0, 50).map((p) => p.slice(0, 300)),
        remote: (s as { remote?: boolean }).remote ?? false,
        queueDepth: s.queueDepth,
        capacity: s.capacity,
        delivered: s.delivered,
        dropped: s.dropped,
        warnings: s.warnings,
        deliveredPerSec: rate(s.delivered, before?.delivered),
        droppedPerSec: rate(s.dropped, before?.dropped),
      };
    });
    previous = next;
    previousAt = now;
    return reports;
  };
}
