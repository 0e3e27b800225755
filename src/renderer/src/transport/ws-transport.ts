/**
 * The control API over the headless server's WebSocket, as a `Transport` for `createClient`.
 *
 * Written against small injected interfaces (a socket factory, a session probe) rather than DOM
 * globals, so the same code runs in the browser and under Node in tests.
 */
import type { CommandName, EventName } from '../../../shared/api';
import type { Transport } from '../../../shared/client';
import type { Envelope } from '../../../shared/errors';
import { isApiErrorShape } from '../../../shared/errors';
import type { ClientFrame } from '../../../shared/wire';

export type ConnectionState = 'connected' | 'connecting' | 'reconnecting' | 'auth-failed';

export interface ConnectionStatus {
  state: ConnectionState;
  /** Why the state is what it is, in words (null when connected and healthy). */
  detail: string | null;
  /** When the next connection attempt is due (epoch ms), while reconnecting. */
  retryAt: number | null;
  /** The server's `hello` (e.g. "vigil 0.1.0"), once one has been received. */
  server: string | null;
}

export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: string): void;
  onClose(): void;
}

export interface SocketLike {
  send(data: string): void;
  close(): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketLike;

/** What `GET /api/session` says about a token: it tells "wrong token" from "server down". */
export type SessionVerdict = 'ok' | 'unauthorized' | 'unreachable';

export interface WsTransportOptions {
  token: string | null;
  wsUrl: (token: string) => string;
  openSocket: SocketFactory;
  probeSession: (token: string) => Promise<SessionVerdict>;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** After this long without any frame, ask the server something to prove the link is alive. */
  idleProbeMs?: number;
  /** A probe unanswered for this long means the link is dead, even if the socket never closed. */
  probeTimeoutMs?: number;
}

/** One socket and what we know about it; a new attempt gets a new one. */
interface Link {
  socket: SocketLike;
  opened: boolean;
  closed: boolean;
  lastFrameAt: number;
  probing: boolean;
}

type Listener = (event: EventName, payload: unknown) => void;
type Resolve = (envelope: Envelope<unknown>) => void;

const MISSING_TOKEN = 'The access token is missing or wrong.';

export class WsTransport implements Transport {
  private readonly opts: WsTransportOptions;
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly idleProbeMs: number;
  private readonly probeTimeoutMs: number;
  private token: string | null;
  private link: Link | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private everConnected = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Resolve>();
  /** topic → number of listeners wanting it; the server hears about 0↔1 changes only. */
  private readonly topicRefs = new Map<EventName, number>();
  private readonly listeners = new Set<{ topics: ReadonlySet<EventName>; listener: Listener }>();
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private current: ConnectionStatus = { state: 'connecting', detail: null, retryAt: null, server: null };

  constructor(opts: WsTransportOptions) {
    this.opts = opts;
    this.token = opts.token;
    this.initialDelayMs = opts.initialDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 10_000;
    this.idleProbeMs = opts.idleProbeMs ?? 10_000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 8_000;
  }

  /** Begins connecting; without a token there is nothing to try. */
  start(): void {
    if (!this.token) {
      this.setStatus({ state: 'auth-failed', detail: MISSING_TOKEN, retryAt: null });
      return;
    }
    this.connect();
  }

  get status(): ConnectionStatus {
    return this.current;
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** A new token from the person (after an auth failure): forget the backoff and try at once. */
  replaceToken(token: string): void {
    this.token = token;
    this.attempt = 0;
    this.everConnected = false;
    this.setStatus({ detail: null });
    this.reconnectNow();
  }

  /** Skip the remaining backoff wait. */
  retryNow(): void {
    if (this.retryTimer !== null) this.reconnectNow();
  }

  invoke(command: CommandName, input: unknown): Promise<Envelope<unknown>> {
    const link = this.link;
    if (!link?.opened) return Promise.resolve(unavailable('not connected to Vigil'));
    const id = this.nextId++;
    let text: string;
    try {
      text = JSON.stringify({ type: 'call', id, command, input } satisfies ClientFrame);
    } catch {
      return Promise.resolve({
        ok: false,
        error: { code: 'invalid_input', message: 'the input cannot be sent as JSON' },
      });
    }
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      link.socket.send(text);
    });
  }

  subscribe(topics: EventName[], listener: Listener): () => void {
    const entry = { topics: new Set(topics), listener };
    this.listeners.add(entry);
    const added: EventName[] = [];
    for (const topic of entry.topics) {
      const refs = this.topicRefs.get(topic) ?? 0;
      this.topicRefs.set(topic, refs + 1);
      if (refs === 0) added.push(topic);
    }
    if (added.length > 0) this.sendTopics('subscribe', added);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners.delete(entry);
      const removed: EventName[] = [];
      for (const topic of entry.topics) {
        const refs = (this.topicRefs.get(topic) ?? 1) - 1;
        if (refs <= 0) {
          this.topicRefs.delete(topic);
          removed.push(topic);
        } else this.topicRefs.set(topic, refs);
      }
      if (removed.length > 0) this.sendTopics('unsubscribe', removed);
    };
  }

  /** Closes for good: no more reconnects; pending calls resolve as unavailable. */
  dispose(): void {
    this.disposed = true;
    this.clearRetry();
    this.abandonLink('the connection was closed');
  }

  private connect(): void {
    if (this.disposed || !this.token) return;
    this.clearRetry();
    // The detail keeps the reason of the last failure until this attempt settles.
    this.setStatus({ state: this.everConnected ? 'reconnecting' : 'connecting', retryAt: null });
    const token = this.token;
    // Handlers run only after openSocket has returned (socket events are asynchronous).
    const handlers: SocketHandlers = {
      onOpen: () => {
        if (this.link !== link) return;
        link.opened = true;
        link.lastFrameAt = Date.now();
        this.everConnected = true;
        this.attempt = 0;
        // Subscriptions are per connection: the server forgot them with the last socket.
        const topics = [...this.topicRefs.keys()];
        if (topics.length > 0) this.sendTopics('subscribe', topics);
        this.startWatchdog(link);
        this.setStatus({ state: 'connected', detail: null, retryAt: null });
      },
      onMessage: (data) => {
        if (this.link !== link) return;
        link.lastFrameAt = Date.now();
        this.receive(data);
      },
      onClose: () => {
        if (this.link !== link || link.closed) return;
        this.abandonLink('the connection to Vigil was lost');
        if (!this.disposed) void this.afterClose(token, link.opened);
      },
    };
    const socket = this.opts.openSocket(this.opts.wsUrl(token), handlers);
    const link: Link = { socket, opened: false, closed: false, lastFrameAt: 0, probing: false };
    this.link = link;
  }

  private async afterClose(token: string, opened: boolean): Promise<void> {
    if (opened) {
      this.scheduleRetry(null);
      return;
    }
    // A refused upgrade looks the same as a dead server from here; ask the server which it is.
    const verdict = await this.opts.probeSession(token).catch((): SessionVerdict => 'unreachable');
    if (this.disposed || this.link !== null || token !== this.token) return;
    if (verdict === 'unauthorized') {
      this.setStatus({ state: 'auth-failed', detail: MISSING_TOKEN, retryAt: null });
    } else {
      this.scheduleRetry(
        verdict === 'unreachable' ? 'the server is unreachable' : 'the server refused the connection',
      );
    }
  }

  private scheduleRetry(why: string | null): void {
    const delay = Math.min(this.initialDelayMs * 2 ** this.attempt, this.maxDelayMs);
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.setStatus({ state: this.everConnected ? 'reconnecting' : 'connecting', detail: why, retryAt });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private reconnectNow(): void {
    this.clearRetry();
    this.abandonLink('the connection was replaced');
    this.connect();
  }

  /**
   * Events flow only when something changes, so a quiet link and a dead one (a laptop that slept,
   * a half-open TCP connection) look alike; a cheap call after a silence tells them apart.
   */
  private startWatchdog(link: Link): void {
    this.stopWatchdog();
    this.watchdog = setInterval(() => {
      if (this.link !== link || link.probing || Date.now() - link.lastFrameAt < this.idleProbeMs) return;
      link.probing = true;
      const deadline = setTimeout(() => {
        if (this.link !== link) return;
        this.abandonLink('Vigil stopped answering');
        this.scheduleRetry('the connection stopped answering');
      }, this.probeTimeoutMs);
      void this.invoke('app.info', {}).then(() => {
        clearTimeout(deadline);
        link.probing = false;
      });
    }, 1000);
  }

  private stopWatchdog(): void {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Closes and forgets the current socket, and answers every call still waiting for it. */
  private abandonLink(why: string): void {
    const link = this.link;
    this.link = null;
    this.stopWatchdog();
    if (link && !link.closed) {
      link.closed = true;
      link.socket.close();
    }
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) resolve(unavailable(`${why} before the reply arrived`));
  }

  private receive(data: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return; // not ours to interpret; the server only sends JSON
    }
    if (typeof frame !== 'object' || frame === null) return;
    const f = frame as Record<string, unknown>;
    if (f.type === 'hello') {
      this.setStatus({ server: typeof f.server === 'string' ? f.server : null });
    } else if (f.type === 'reply' && typeof f.id === 'number') {
      const resolve = this.pending.get(f.id);
      if (!resolve) return;
      this.pending.delete(f.id);
      if (f.ok === true) resolve({ ok: true, result: f.result });
      else if (isApiErrorShape(f.error)) resolve({ ok: false, error: f.error });
      else resolve({ ok: false, error: { code: 'internal', message: 'the server sent a malformed reply' } });
    } else if (f.type === 'event' && typeof f.event === 'string') {
      const event = f.event as EventName;
      for (const { topics, listener } of [...this.listeners]) {
        if (!topics.has(event)) continue;
        try {
          listener(event, f.payload);
        } catch (error) {
          // One faulty listener must not starve the others of the event.
          console.error(`[vigil] listener for ${event} failed:`, error);
        }
      }
    }
  }

  private sendTopics(type: 'subscribe' | 'unsubscribe', topics: EventName[]): void {
    const link = this.link;
    if (!link?.opened) return; // sent on the next open instead
    const id = this.nextId++;
    // Nobody awaits a subscription; the reply only tells us it took, and is dropped.
    this.pending.set(id, () => undefined);
    link.socket.send(JSON.stringify({ type, id, topics } satisfies ClientFrame));
  }

  private setStatus(change: Partial<ConnectionStatus>): void {
    this.current = { ...this.current, ...change };
    for (const listener of [...this.statusListeners]) listener(this.current);
  }
}

function unavailable(message: string): Envelope<never> {
  return { ok: false, error: { code: 'unavailable', message } };
}
