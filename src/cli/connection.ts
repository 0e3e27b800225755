/**
 * One WebSocket to the headless server's control API, as a `Transport` for the shared client. A
 * command line wants an answer or a clear failure, never a reconnect loop: a refused token, a server
 * that is not there and a link that drops are each told apart and end the command.
 */
import WebSocket from 'ws';
import type { CommandName, EventName } from '../shared/api';
import { createClient, type Transport, type VigilApi } from '../shared/client';
import { isApiErrorShape, type Envelope } from '../shared/errors';
import type { ClientFrame } from '../shared/wire';

export class ConnectError extends Error {
  constructor(
    message: string,
    readonly kind: 'unreachable' | 'unauthorized',
  ) {
    super(message);
  }
}

export interface Connection {
  api: VigilApi;
  /** The server's hello, e.g. "vigil 0.1.0". */
  server: string;
  /** Resolves with why, when the link ends without close() being called. */
  lost: Promise<string>;
  close(): void;
}

type Listener = (event: EventName, payload: unknown) => void;

const CONNECT_TIMEOUT_MS = 10_000;

export async function connect(wsUrl: string, shown: string, token: string | null): Promise<Connection> {
  const ws = new WebSocket(wsUrl, {
    // A header, not the query string: the token stays out of proxies' logs.
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
    handshakeTimeout: CONNECT_TIMEOUT_MS,
  });
  const pending = new Map<number, (envelope: Envelope<unknown>) => void>();
  const listeners = new Set<{ topics: ReadonlySet<EventName>; listener: Listener }>();
  let closing = false;
  let markLost: (why: string) => void = () => undefined;
  const lost = new Promise<string>((resolve) => (markLost = resolve));

  const server = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(
        new ConnectError(`${shown} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s`, 'unreachable'),
      );
    }, CONNECT_TIMEOUT_MS);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      ws.terminate();
      reject(
        res.statusCode === 401
          ? new ConnectError(
              token === null
                ? `${shown} wants a token: pass --token or set VIGIL_TOKEN (the server prints it at start)`
                : `${shown} refused the token: check --token or VIGIL_TOKEN`,
              'unauthorized',
            )
          : new ConnectError(
              `${shown} answered HTTP ${res.statusCode} ${res.statusMessage ?? ''}: is it a Vigil server?`.trim(),
              'unreachable',
            ),
      );
    });
    ws.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ConnectError(`cannot reach Vigil at ${shown}: ${describe(error)}`, 'unreachable'));
    });
    ws.on('message', (data) => {
      const frame = parse(data.toString());
      if (frame?.type === 'hello') {
        clearTimeout(timer);
        resolve(typeof frame.server === 'string' ? frame.server : 'vigil');
      } else if (frame) receive(frame);
    });
  });

  ws.on('error', () => undefined); // reported through 'close'
  ws.on('close', (code, reason) => {
    for (const resolve of pending.values())
      resolve({ ok: false, error: { code: 'unavailable', message: 'the connection to Vigil was lost' } });
    pending.clear();
    if (!closing)
      markLost(`the connection to Vigil closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`);
  });

  function receive(f: Record<string, unknown>): void {
    if (f.type === 'reply' && typeof f.id === 'number') {
      const resolve = pending.get(f.id);
      if (!resolve) return;
      pending.delete(f.id);
      if (f.ok === true) resolve({ ok: true, result: f.result });
      else if (isApiErrorShape(f.error)) resolve({ ok: false, error: f.error });
      else resolve({ ok: false, error: { code: 'internal', message: 'the server sent a malformed reply' } });
    } else if (f.type === 'event' && typeof f.event === 'string') {
      for (const { topics, listener } of listeners)
        if (topics.has(f.event as EventName)) listener(f.event as EventName, f.payload);
    }
  }

  let nextId = 1;
  const send = (frame: ClientFrame): void => ws.send(JSON.stringify(frame));
  const transport: Transport = {
    invoke: (command: CommandName, input: unknown) =>
      new Promise((resolve) => {
        if (ws.readyState !== WebSocket.OPEN) {
          resolve({ ok: false, error: { code: 'unavailable', message: 'not connected to Vigil' } });
          return;
        }
        const id = nextId++;
        pending.set(id, resolve);
        send({ type: 'call', id, command, input });
      }),
    subscribe: (topics, listener) => {
      const entry = { topics: new Set(topics), listener };
      listeners.add(entry);
      // Nobody awaits a subscription's reply; a refused topic is a bug in this program, not input.
      const id = nextId++;
      pending.set(id, () => undefined);
      send({ type: 'subscribe', id, topics });
      return () => listeners.delete(entry);
    },
  };

  return {
    api: createClient(transport),
    server,
    lost,
    close: () => {
      closing = true;
      ws.close(1000);
    },
  };
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is `npm run headless` running, on this port?)';
    case 'ENOTFOUND':
      return 'no such host';
    case 'ETIMEDOUT':
      return 'timed out';
    default:
      return error.message;
  }
}
