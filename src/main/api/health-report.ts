/**
 * GET /health's answer, from the live services: the overall status by the same rule as the Dashboard
 * and the tray (service-status.ts: failing is unhealthy), each service's state and resources, and
 * each collector stream's freshness and gap count.
 */
import type { AppInfo } from '../../shared/api';
import { collectorStreams } from '../../shared/collector-streams';
import type { HealthReport, HealthStatus, ServiceHealthReport } from '../../shared/health';
import { memoryBand, overallStatus, type OverallLevel } from '../../shared/service-status';
import type { ServiceInfo } from '../../shared/services';

const statusOf: Record<OverallLevel, HealthStatus> = {
  healthy: 'healthy',
  // No services configured is nothing failing: the server itself is up.
  empty: 'healthy',
  degraded: 'degraded',
  failing: 'unhealthy',
};

export function buildHealthReport(
  app: AppInfo,
  services: readonly ServiceInfo[],
  now: number = Date.now(),
): HealthReport {
  const overSoftLimit = services
    .filter((s) => memoryBand(s.rssBytes, s.definition.memory.softBytes, null) === 'soft')
    .map((s) => s.name);
  const overall = overallStatus(services, overSoftLimit);
  return {
    status: statusOf[overall.level],
    problems: overall.problems.map((p) => ({ service: p.name, what: p.what })),
    version: app.version,
    mode: app.mode,
    market: app.demo ? 'demo' : 'live',
    pid: app.pid,
    startedAt: app.startedAt,
    uptimeSeconds: seconds(now - app.startedAt),
    at: now,
    services: services.map((s) => serviceReport(s, now)),
  };
}

function serviceReport(s: ServiceInfo, now: number): ServiceHealthReport {
  const up = s.pid !== null && s.startedAt !== null;
  return {
    name: s.name,
    kind: s.kind,
    state: s.state,
    health: s.health,
    reason: s.healthReason ?? s.reason,
    pid: s.pid,
    uptimeSeconds: up ? seconds(now - s.startedAt!) : null,
    restarts: s.restarts,
    cpuPercent: s.cpuPercent,
    rssBytes: s.rssBytes,
    heartbeatAgeSeconds:
      up && s.lastHeartbeatAt !== null ? seconds(Math.max(0, now - s.lastHeartbeatAt)) : null,
    streams: collectorStreams(s).map((t) => ({
      stream: t.stream,
      venue: t.venue,
      symbol: t.symbol,
      type: t.type,
      freshness: t.freshness,
      ageSeconds: t.ageMs === null ? null : seconds(t.ageMs),
      staleAfterSeconds: seconds(t.limitMs),
      gaps: t.gaps,
      messagesPerSecond: Math.round(t.perSec * 100) / 100,
    })),
  };
}

/** Milliseconds as seconds, to the millisecond. */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
