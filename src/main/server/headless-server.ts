/**
 * The headless transport: serves the built renderer over HTTP and the control API over a WebSocket,
 * token-protected, on 127.0.0.1 unless the operator says otherwise; and /health and /metrics for an
 * operator's tools (ops-routes.ts).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { MAX_REQUEST_BYTES } from '../../shared/api';
import { TOKEN_PARAM, WS_PATH } from '../../shared/wire';
import type { EventHub } from '../api/event-hub';
import type { Router } from '../api/router';
import type { Observability } from '../api/observability';
import { hostAllowed, originAllowed, requestToken, tokenMatches } from './auth';
import { isOpsPath, serveOps, type OpsAuthMode } from './ops-routes';
import { CONTENT_SECURITY_POLICY, contentType, resolveStaticPath } from './static-files';
import { serveConnection } from './ws-connection';

export interface HeadlessServerOptions {
  host: string;
  port: number;
  token: string;
  rendererDir: string;
  router: Router;
  events: EventHub;
  serverName: string;
  maxRequestBytes?: number;
  /** GET /health and GET /metrics; without it, neither is served. */
  ops?: { observability: Observability; health: OpsAuthMode; metrics: OpsAuthMode };
}

export interface HeadlessServer {
  readonly port: number;
  /** The URL to open, token included. */
  readonly url: string;
  close(): Promise<void>;
}

const SESSION_PATH = '/api/session';

export async function startHeadlessServer(opts: HeadlessServerOptions): Promise<HeadlessServer> {
  const maxRequestBytes = opts.maxRequestBytes ?? MAX_REQUEST_BYTES;
  // ws refuses frames past maxPayload by closing the socket; keep that far above our own limit so
  // ordinary oversized requests get a typed error instead.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxRequestBytes * 16 });

  const hostOk = (req: IncomingMessage): boolean => hostAllowed(opts.host, req);

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((error: unknown) => {
      console.error('[http] request failed:', error);
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) return send(res, 421, 'unknown host');
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === SESSION_PATH) {
      return tokenMatches(opts.token, requestToken(req, url))
        ? send(res, 204)
        : send(res, 401, 'wrong or missing token');
    }
    if (opts.ops && isOpsPath(url.pathname)) {
      const { observability, health, metrics } = opts.ops;
      return serveOps(req, res, url, { ops: observability, health, metrics, token: opts.token });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    const file = resolveStaticPath(opts.rendererDir, url.pathname);
    const info = file ? await stat(file).catch(() => null) : null;
    if (!file || !info?.isFile()) return send(res, 404, 'not found');
    res.writeHead(200, {
      ...securityHeaders,
      'Content-Type': contentType(file),
      'Content-Length': info.size,
      // Built assets carry a content hash in their names; index.html must always be fresh.
      'Cache-Control': url.pathname.startsWith('/assets/')
        ? 'public, max-age=31536000, immutable'
        : 'no-store',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== WS_PATH) return refuse(404, 'Not Found');
    if (!hostOk(req)) return refuse(421, 'Misdirected Request');
    if (!originAllowed(req.headers.origin, req.headers.host)) return refuse(403, 'Forbidden');
    if (!tokenMatches(opts.token, requestToken(req, url))) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      serveConnection(ws, {
        router: opts.router,
        events: opts.events,
        maxRequestBytes,
        serverName: opts.serverName,
      });
      // Find dead peers (a laptop lid closed): ping every 30 s, drop those that never answer.
      let alive = true;
      ws.on('pong', () => (alive = true));
      const timer = setInterval(() => {
        if (!alive) return ws.terminate();
        alive = false;
        ws.ping();
      }, 30_000);
      timer.unref();
      ws.on('close', () => clearInterval(timer));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${shownHost}:${port}/?${TOKEN_PARAM}=${encodeURIComponent(opts.token)}`;

  return {
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.close(1001, 'server shutting down');
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const securityHeaders = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function send(res: ServerResponse, status: number, text?: string): void {
  res.writeHead(status, {
    ...securityHeaders,
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(text === undefined ? undefined : `${text}\n`);
}
