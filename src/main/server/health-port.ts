/**
 * The local health port (settings.ports.health; null is off): /health and /metrics on their own
 * listener, on loopback only, for a monitoring agent on the same machine. The desktop app has no other
 * HTTP server; a headless one gets a listener that stays local while its main port may face the
 * network. It follows the setting: a change rebinds, null closes it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Settings } from '../../shared/settings';
import type { EventHub } from '../api/event-hub';
import type { Observability } from '../api/observability';
import { hostAllowed } from './auth';
import { isOpsPath, serveOps, type OpsAuthMode } from './ops-routes';

export interface HealthPortOptions {
  events: EventHub;
  settings: () => Settings;
  ops: Observability;
  /** Default 127.0.0.1: the bind address is this listener's protection. */
  host?: string;
  /** Ask for this token on /health and /metrics (default: none, loopback is enough). */
  token?: string | null;
  /** Where a port that cannot be bound is reported (default console.warn). */
  warn?: (message: string) => void;
}

export interface HealthPort {
  /** The port listened on now, or null when off (or when binding failed). */
  readonly port: number | null;
  /** Resolves once the listener matches the current setting. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export function followHealthPort(opts: HealthPortOptions): HealthPort {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? null;
  const mode: OpsAuthMode = token === null ? 'open' : 'token';
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  let server: Server | null = null;
  let port: number | null = null;
  let wanted: number | null = null;
  let closed = false;
  // Changes apply one at a time, in order: a quick off-on never leaves two listeners.
  let chain: Promise<void> = Promise.resolve();

  const apply = (next: number | null): void => {
    if (next === wanted) return;
    wanted = next;
    chain = chain.then(async () => {
      await stop();
      if (next === null || closed || next !== wanted) return;
      try {
        server = await listen(host, next, (req, res) => {
          const url = new URL(req.url ?? '/', 'http://localhost');
          if (!hostAllowed(host, req)) return void res.writeHead(421).end('unknown host\n');
          if (!isOpsPath(url.pathname)) return void res.writeHead(404).end('not found\n');
          serveOps(req, res, url, { ops: opts.ops, health: mode, metrics: mode, token }).catch(
            (error: unknown) => {
              console.error('[health port] request failed:', error);
              if (!res.headersSent) res.writeHead(500).end('internal error\n');
              else res.destroy();
            },
          );
        });
        port = (server.address() as AddressInfo).port;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        warn(
          `vigil: health port ${next} on ${host} is off: ${
            code === 'EADDRINUSE'
              ? 'the port is in use; choose another in Settings'
              : (error as Error).message
          }`,
        );
      }
    });
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = null;
    port = null;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  };

  const off = opts.events.listen((event, payload) => {
    if (event === 'config.changed') apply((payload as { settings: Settings }).settings.ports.health);
  });
  apply(opts.settings().ports.health);

  return {
    get port() {
      return port;
    },
    settled: () => chain,
    close: async () => {
      closed = true;
      off();
      chain = chain.then(stop);
      await chain;
    },
  };
}

function listen(host: string, port: number, handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
