/** What an operator's tools read of the core: GET /health's report and GET /metrics' exposition. */
import type { HealthReport } from '../../shared/health';
import { buildHealthReport } from './health-report';
import { PrometheusMetrics, type MetricsSource } from './prometheus-metrics';

export interface Observability {
  health(): HealthReport;
  metrics(): Promise<string>;
  readonly metricsContentType: string;
}

export function createObservability(source: MetricsSource): Observability {
  // Made at the first scrape: a Vigil nobody scrapes pays nothing for the process metrics' observers.
  let prometheus: PrometheusMetrics | null = null;
  return {
    health: () => buildHealthReport(source.app(), source.services()),
    metrics: () => (prometheus ??= new PrometheusMetrics(source)).render(),
    metricsContentType: PrometheusMetrics.contentType,
  };
}
