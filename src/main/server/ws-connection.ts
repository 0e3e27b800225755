/**
 * One WebSocket client of the control API. Every frame gets an answer: a malformed, oversized or
 * unknown request is answered with a typed error and the connection (and server) keep serving.
 */
import type { RawData, WebSocket } from 'ws';
import { isEventName, type EventName } from '../../shared/api';
import type { ApiErrorShape } from '../../shared/errors';
import { zodErrorToApiError } from '../../shared/validation';
import { clientFrameSchema, type RequestId, type ServerFrame } from '../../shared/wire';
import { Subscription, type EventHub } from '../api/event-hub';
import type { Router } from '../api/router';

export interface ConnectionOptions {
  router: Router;
  events: EventHub;
  maxRequestBytes: number;
  serverName: string;
  /** Events are dropped for a client whose unsent data exceeds this: a slow tab must not grow memory. */
  maxBufferedBytes?: number;
}

export function serveConnection(socket: WebSocket, opts: ConnectionOptions): void {
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const send = (frame: ServerFrame): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
  };
  const replyError = (id: RequestId | null, error: ApiErrorShape): void =>
    send({ type: 'reply', id, ok: false, error });

  const subscription = new Subscription(opts.events, (event, payload) => {
    if (socket.bufferedAmount <= maxBuffered) send({ type: 'event', event, payload });
  });
  socket.on('close', () => subscription.close());
  socket.on('error', () => subscription.close());

  socket.on('message', (data: RawData, isBinary: boolean) => {
    void handle(data, isBinary).catch((error: unknown) => {
      // Unreachable by design (the router never rejects); kept so a bug cannot kill the process.
      console.error('[ws] request handling failed:', error);
      replyError(null, { code: 'internal', message: 'request handling failed' });
    });
  });

  async function handle(data: RawData, isBinary: boolean): Promise<void> {
    const size = Array.isArray(data)
      ? data.reduce((n, b) => n + b.length, 0)
      : data instanceof ArrayBuffer
        ? data.byteLength
        : data.length;
    if (size > opts.maxRequestBytes) {
      return replyError(null, {
        code: 'payload_too_large',
        message: `request of ${size} bytes exceeds the limit of ${opts.maxRequestBytes} bytes`,
      });
    }
    if (isBinary) return replyError(null, { code: 'bad_request', message: 'binary frames are not accepted' });
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return replyError(null, { code: 'bad_request', message: 'request is not valid JSON' });
    }
    const parsed = clientFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const { message, field } = zodErrorToApiError(parsed.error, 'request');
      return replyError(idOf(raw), { code: 'bad_request', message, ...(field ? { field } : {}) });
    }
    const frame = parsed.data;
    if (frame.type === 'call') {
      const envelope = await opts.router.dispatch(frame.command, frame.input, { transport: 'ws' });
      return send({ type: 'reply', id: frame.id, ...envelope });
    }
    const unknown = frame.topics.findIndex((t) => !isEventName(t));
    if (unknown >= 0) {
      return replyError(frame.id, {
        code: 'unknown_event',
        message: `topics.${unknown}: ${JSON.stringify(frame.topics[unknown])} is not a known event`,
        field: `topics.${unknown}`,
      });
    }
    const topics = frame.topics as EventName[];
    if (frame.type === 'subscribe') subscription.add(topics);
    else subscription.remove(topics);
    send({ type: 'reply', id: frame.id, ok: true, result: { topics: subscription.list() } });
  }

  send({ type: 'hello', protocol: 1, server: opts.serverName });
}

function idOf(raw: unknown): RequestId | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const id = (raw as { id?: unknown }).id;
  return (typeof id === 'number' && Number.isInteger(id) && id >= 0) ||
    (typeof id === 'string' && id.length > 0 && id.length <= 64)
    ? id
    : null;
}
