/**
 * What GET /health answers, for load balancers, monitoring probes and the `vigil` command line: the
 * overall status (HTTP 200 while healthy or degraded, 503 when unhealthy), and per service its state
 * and resources, per collector stream its freshness and gaps.
 */
import type { Freshness } from './market-api';
import type { ServiceHealth, ServiceKind, ServiceState } from './services';

export const healthStatuses = ['healthy', 'degraded', 'unhealthy'] as const;
export type HealthStatus = (typeof healthStatuses)[number];

export interface StreamHealthReport {
  stream: string;
  venue: string | null;
  symbol: string;
  type: string;
  freshness: Freshness;
  /** Since the stream's last message; null before the first one or while the collector is down. */
  ageSeconds: number | null;
  staleAfterSeconds: number;
  gaps: number;
  messagesPerSecond: number;
}

export interface ServiceHealthReport {
  name: string;
  kind: ServiceKind;
  state: ServiceState;
  health: ServiceHealth | null;
  reason: string | null;
  pid: number | null;
  /** Since the current run started; null when the service is not up. */
  uptimeSeconds: number | null;
  restarts: number;
  /** Whole process tree, % of one core. */
  cpuPercent: number | null;
  rssBytes: number | null;
  heartbeatAgeSeconds: number | null;
  /** Collectors only (empty for the others). */
  streams: StreamHealthReport[];
}

export interface HealthReport {
  status: HealthStatus;
  /** Why, a few words per service; empty when healthy. */
  problems: { service: string; what: string }[];
  version: string;
  /** desktop or headless; the market data: from the simulator (demo) or the exchanges (live). */
  mode: 'desktop' | 'headless';
  market: 'demo' | 'live';
  pid: number;
  startedAt: number;
  uptimeSeconds: number;
  /** Epoch ms of this report. */
  at: number;
  services: ServiceHealthReport[];
}

/** 503 only when unhealthy: a degraded Vigil still serves, so a load balancer keeps it. */
export function healthHttpStatus(status: HealthStatus): 200 | 503 {
  return status === 'unhealthy' ? 503 : 200;
}
