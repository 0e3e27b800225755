/**
 * GET /health and GET /metrics over HTTP, for the headless server and the desktop's local health port
 * alike. /health is open unless the operator asks for the token (a load balancer's probe rarely
 * carries one); /metrics takes the token unless the operator opens it, relying on the bind address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { healthHttpStatus } from '../../shared/health';
import type { Observability } from '../api/observability';
import { requestToken, tokenMatches } from './auth';

export const HEALTH_PATH = '/health';
export const METRICS_PATH = '/metrics';

export const opsAuthModes = ['open', 'token'] as const;
export type OpsAuthMode = (typeof opsAuthModes)[number];

export interface OpsRoutesOptions {
  ops: Observability;
  health: OpsAuthMode;
  metrics: OpsAuthMode;
  /** Required by the endpoints set to 'token'; with none, they refuse every request. */
  token: string | null;
}

export function isOpsPath(pathname: string): boolean {
  return pathname === HEALTH_PATH || pathname === METRICS_PATH;
}

/** Answers a request for HEALTH_PATH or METRICS_PATH (check isOpsPath first). */
export async function serveOps(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  opts: OpsRoutesOptions,
): Promise<void> {
  const isHealth = url.pathname === HEALTH_PATH;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return reply(res, req, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, HEAD' });
  }
  const mode = isHealth ? opts.health : opts.metrics;
  if (mode === 'token' && (opts.token === null || !tokenMatches(opts.token, requestToken(req, url)))) {
    return reply(res, req, 401, 'text/plain; charset=utf-8', 'wrong or missing token\n', {
      'WWW-Authenticate': 'Bearer realm="vigil"',
    });
  }
  if (isHealth) {
    const report = opts.ops.health();
    return reply(
      res,
      req,
      healthHttpStatus(report.status),
      'application/json; charset=utf-8',
      `${JSON.stringify(report)}\n`,
    );
  }
  const text = await opts.ops.metrics();
  return reply(res, req, 200, opts.ops.metricsContentType, text);
}

function reply(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
