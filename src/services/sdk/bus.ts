/** The bus as a child gets it: the backend and addresses come from the supervisor (VIGIL_BUS). */
import { childEnv, type ChildBusConfig } from '../../shared/child-protocol';
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
