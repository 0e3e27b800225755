/**
 * One logical market-data WebSocket that stays up and never hides a gap.
 *
 * - Server pings are answered by `ws` itself (a pong with the same payload, as Binance requires).
 * - A watchdog presumes the socket dead when no frame at all (data, ping, pong) arrived for
 *   `staleAfterMs`, terminates it and reconnects.
 * - Reconnects use exponential backoff with full jitter; an HTTP 429/418 on the upgrade holds the next
 *   attempt until Retry-After.
 * - Every outage is reported: `onDown` when it starts (reset books, mark degraded), then `onGap` with
 *   `[start, end]` and `onUp` when a connection is open again.
 * - Before the exchange's 24 h limit (and when the caller asks, e.g. on Binance `serverShutdown`) a
 *   second connection is opened next to the first; both deliver (the generation number tells them apart,
 *   consumers de-duplicate by exchange ids), and the old one is closed only once the new one has
 *   delivered data for `overlapMs`. A rotation that loses nothing reports no gap at all; the ledger is
 *   for real losses. If the old connection dies before the new one has taken over, that is an outage
 *   like any other (cause `rotation` or `server-shutdown`).
 */
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import type { GapCause } from '../../../shared/market';
import { Backoff, parseRetryAfter, type BackoffOptions } from './backoff';
import { TokenBucket } from './rate-limiter';

/** Why a connection went down. */
export type ConnectionGapCause = Extract<GapCause, 'disconnect' | 'stale' | 'server-shutdown' | 'rotation'>;

/** Why a second connection is opened next to the first. */
export type RotationReason = 'rotation' | 'server-shutdown';

/** An outage of the whole connection: every stream on it lost `[start, end]`. */
export interface ConnectionGap {
  cause: ConnectionGapCause;
  /** Epoch ms: the last frame (data, ping or pong) received on the connection that went down. */
  start: number;
  /** Epoch ms: when the replacement connection was open. */
  end: number;
  detail: string;
}

export interface RotationInfo {
  reason: RotationReason;
  /** Generation of the connection that was retired. */
  from: number;
  /** Generation of the connection that took over. */
  to: number;
}

/** Sends one text frame on a particular socket, through its rate limiter. Dropped if that socket closes. */
export type SendFn = (text: string) => void;

export interface StreamConnectionOptions {
  /** For details and errors, e.g. `binance-usdm/public`. */
  name: string;
  /** Called before every connection attempt, so the caller can rebuild a combined-stream URL. */
  url: () => string;
  /** The socket `generation` is open: send subscriptions here with `send` (rate-limited, FIFO). */
  onOpen?: (send: SendFn, generation: number) => void;
  /** Every text message, with its receive time (epoch ms) and the generation of the socket. */
  onMessage: (text: string, receivedAt: number, generation: number) => void;
  /** The connection went down (not called for a clean rotation). */
  onDown?: (cause: ConnectionGapCause, detail: string) => void;
  /** An outage ended: `[start, end]` was lost. Called just before `onUp`. */
  onGap?: (gap: ConnectionGap) => void;
  /** A connection is open again after `onDown` (and once after the first connect). */
  onUp?: (generation: number) => void;
  /** A rotation completed without loss: `from` is being closed, `to` carries on. */
  onRotated?: (info: RotationInfo) => void;
  /** A callback threw: reported here instead of unwinding into `ws`. Default: console.error. */
  onError?: (err: unknown) => void;
  /**
   * Which text messages count as data for a rotation's hand-over (the new socket must have delivered
   * data before the old one closes). Default: every message. Return false for subscription acks.
   */
  isData?: (text: string) => boolean;
  /** No frame at all for this long: presumed dead. Default 60 s (Binance spot pings every 20 s). */
  staleAfterMs?: number;
  /** Planned reconnect, before the exchange's 24 h limit. Default 23 h. */
  rotateAfterMs?: number;
  /** Random extra in [0, rotateJitterMs). Default min(5 min, 5 % of rotateAfterMs). */
  rotateJitterMs?: number;
  /** How long both sockets deliver once the new one has data. Default 2000 ms. */
  overlapMs?: number;
  /** Control messages per second per socket. Default 4 (Binance spot allows 5 incl. pongs; USD-M 10). */
  controlRatePerSec?: number;
  /** Application-level keepalive (OKX `ping`, Deribit): `send` is called every `intervalMs` per socket. */
  heartbeat?: { intervalMs: number; send: (send: SendFn) => void };
  /** Reconnect schedule. Default base 250 ms, cap 30 s, reset after 60 s up. */
  backoff?: BackoffOptions;
  /** Retry schedule of a rotation whose new socket failed. Default base 1 s, cap 60 s. */
  rotationBackoff?: BackoffOptions;
  /** Opening handshake timeout. Default 10 s. */
  connectTimeoutMs?: number;
  /** Wait after an HTTP 429 on the upgrade without Retry-After. Default 60 s. */
  rateLimitDefaultMs?: number;
  /** Wait after an HTTP 418 (IP ban) on the upgrade without Retry-After. Default 2 min. */
  banDefaultMs?: number;
  /** Extra `ws` client options (headers, agent, perMessageDeflate...). */
  wsOptions?: ClientOptions;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export interface StreamConnectionStats {
  /** Text messages delivered (from every socket, overlaps included). */
  messages: number;
  /** Payload bytes of those messages. */
  bytes: number;
  /** Outages recovered (a connection opened again after `onDown`). */
  reconnects: number;
  /** Connection attempts that failed before opening (outside rotations). */
  failedConnects: number;
  /** Rotations completed (the new socket took over). */
  rotations: number;
  /** Rotations whose new socket failed (the old one was kept; retried later). */
  failedRotations: number;
  /** Sockets terminated by the watchdog. */
  staleDetections: number;
  /** Epoch ms of the last text message, or null. */
  lastMessageAt: number | null;
  /** Epoch ms since which the serving socket has been open, or null while down. */
  connectedSince: number | null;
  /** The generation of the newest socket. */
  generation: number;
  /** A second socket is being brought up. */
  rotating: boolean;
  /** Epoch ms before which no connection is attempted (HTTP 429/418), or null. */
  rateLimitedUntil: number | null;
}

const DEFAULTS = {
  staleAfterMs: 60_000,
  rotateAfterMs: 23 * 3_600_000,
  overlapMs: 2_000,
  controlRatePerSec: 4,
  connectTimeoutMs: 10_000,
  rateLimitDefaultMs: 60_000,
  banDefaultMs: 120_000,
  closeTimeoutMs: 5_000,
} as const;

type Role = 'current' | 'next' | 'retired';

interface Sock {
  gen: number;
  ws: WebSocket | null;
  role: Role;
  limiter: TokenBucket;
  openedAt: number | null;
  /** Any frame, or the open: the watchdog's reference and an outage's start. */
  lastFrameAt: number;
  firstDataAt: number | null;
  lastDataAt: number | null;
  /** Set when we end the socket ourselves (watchdog, failed rotation, HTTP error on upgrade). */
  failure: string | null;
  stale: boolean;
  error: string | null;
  retryAt: number | null;
  closed: boolean;
  timers: Set<NodeJS.Timeout>;
  onClosed: (() => void)[];
}

interface Outage {
  /** Null when nothing had been received yet (the first connect failed): no gap is reported. */
  start: number | null;
  cause: ConnectionGapCause;
  detail: string;
  failedAttempts: number;
  lastError: string | null;
}

export class StreamConnection {
  private readonly opts: StreamConnectionOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly staleAfterMs: number;
  private readonly overlapMs: number;
  private readonly backoff: Backoff;
  private readonly rotationBackoff: Backoff;
  private readonly sockets = new Set<Sock>();
  private current: Sock | null = null;
  private next: Sock | null = null;
  private rotationReason: RotationReason | null = null;
  private outage: Outage | null = null;
  private started = false;
  private stopped = false;
  private everUp = false;
  private generation = 0;
  private rateLimitedUntil: number | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private rotationTimer: NodeJS.Timeout | null = null;
  private counters = {
    messages: 0,
    bytes: 0,
    reconnects: 0,
    failedConnects: 0,
    rotations: 0,
    failedRotations: 0,
    staleDetections: 0,
  };
  private lastMessageAt: number | null = null;
  private connectedSince: number | null = null;

  constructor(options: StreamConnectionOptions) {
    this.opts = options;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULTS.staleAfterMs;
    this.overlapMs = options.overlapMs ?? DEFAULTS.overlapMs;
    this.backoff = new Backoff({ random: this.random, now: this.now, ...options.backoff });
    this.rotationBackoff = new Backoff({
      baseMs: 1_000,
      capMs: 60_000,
      random: this.random,
      now: this.now,
      ...options.rotationBackoff,
    });
  }

  /** Opens the first connection. Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.connect('current');
  }

  /**
   * Brings up a second connection next to the serving one and hands over without loss (see the file
   * comment). Returns false when there is nothing to rotate (down, closed) or a rotation is under way;
   * `server-shutdown` upgrades the reason of a rotation under way.
   */
  rotate(reason: RotationReason = 'rotation'): boolean {
    if (this.stopped || !this.current || this.current.openedAt === null) return false;
    if (this.next) {
      if (reason === 'server-shutdown') this.rotationReason = reason;
      return false;
    }
    this.clearTimer('rotation');
    this.rotationReason = reason;
    const hold = this.holdOff();
    if (hold > 0) {
      // Connection attempts are on hold (HTTP 429/418): the serving socket carries on until then.
      this.rotationTimer = setTimeout(() => {
        this.rotationTimer = null;
        this.rotate(reason);
      }, hold);
      return true;
    }
    this.connect('next');
    return true;
  }

  /**
   * Sends a text frame through the rate limiter, on the socket of `generation` (default: the serving
   * one). Returns false when that socket is not open; the frame is dropped if it closes while queued.
   */
  send(text: string, generation?: number): boolean {
    const s =
      generation === undefined
        ? this.current
        : [...this.sockets].find((x) => x.gen === generation && x.role !== 'retired');
    if (!s || s.openedAt === null || s.closed) return false;
    this.sender(s)(text);
    return true;
  }

  /**
   * No connection attempt before `epochMs` (an exchange said to wait: Deribit's credit exhaustion
   * closes the session). The serving socket, if any, is left alone.
   */
  holdUntil(epochMs: number): void {
    this.rateLimitedUntil = Math.max(this.rateLimitedUntil ?? 0, epochMs);
  }

  /** Stops everything: no reconnects, no callbacks. Resolves when every socket is closed. */
  async close(): Promise<void> {
    this.stopped = true;
    this.connectedSince = null;
    this.clearTimer('reconnect');
    this.clearTimer('rotation');
    const waits: Promise<void>[] = [];
    for (const s of this.sockets) {
      this.quiet(s);
      if (s.closed || !s.ws) continue;
      waits.push(new Promise<void>((resolve) => s.onClosed.push(resolve)));
      this.endSocket(s, 1000, 'client closing');
    }
    await Promise.all(waits);
  }

  stats(): StreamConnectionStats {
    const limited = this.rateLimitedUntil !== null && this.rateLimitedUntil > this.now();
    return {
      ...this.counters,
      lastMessageAt: this.lastMessageAt,
      connectedSince: this.connectedSince,
      generation: this.generation,
      rotating: this.next !== null,
      rateLimitedUntil: limited ? this.rateLimitedUntil : null,
    };
  }

  // --- sockets ---------------------------------------------------------------------------------------

  private connect(role: 'current' | 'next'): void {
    const t = this.now();
    const s: Sock = {
      gen: ++this.generation,
      ws: null,
      role,
      limiter: new TokenBucket({
        ratePerSec: this.opts.controlRatePerSec ?? DEFAULTS.controlRatePerSec,
        onError: (err) => this.report(err),
        now: this.now,
      }),
      openedAt: null,
      lastFrameAt: t,
      firstDataAt: null,
      lastDataAt: null,
      failure: null,
      stale: false,
      error: null,
      retryAt: null,
      closed: false,
      timers: new Set(),
      onClosed: [],
    };
    this.sockets.add(s);
    if (role === 'current') this.current = s;
    else this.next = s;

    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url(), {
        handshakeTimeout: this.opts.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        ...this.opts.wsOptions,
      });
    } catch (err) {
      // A bad URL is a configuration error, but the caller may fix it in url(): keep retrying.
      s.error = `cannot connect: ${errorText(err)}`;
      setImmediate(() => this.handleClose(s, 1006, ''));
      return;
    }
    s.ws = ws;
    ws.on('open', () => this.handleOpen(s));
    ws.on('message', (data) => this.handleMessage(s, data));
    ws.on('ping', () => this.handleFrame(s));
    ws.on('pong', () => this.handleFrame(s));
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      s.failure = `HTTP ${status} on upgrade`;
      if (status === 429 || status === 418) {
        const fallback =
          status === 418
            ? (this.opts.banDefaultMs ?? DEFAULTS.banDefaultMs)
            : (this.opts.rateLimitDefaultMs ?? DEFAULTS.rateLimitDefaultMs);
        const waitMs = parseRetryAfter(res.headers['retry-after'], this.now()) ?? fallback;
        s.retryAt = this.now() + waitMs;
        this.rateLimitedUntil = Math.max(this.rateLimitedUntil ?? 0, s.retryAt);
        s.failure += `, retry after ${Math.ceil(waitMs / 1000)} s`;
      }
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      s.error ??= err.message;
    });
    ws.on('close', (code, reason) => this.handleClose(s, code, reason.toString()));
  }

  private handleOpen(s: Sock): void {
    if (this.stopped || s.role === 'retired') return;
    const t = this.now();
    s.openedAt = t;
    s.lastFrameAt = t;
    this.armWatchdog(s);
    const hb = this.opts.heartbeat;
    if (hb) {
      const timer = setInterval(() => this.safe(() => hb.send(this.sender(s))), hb.intervalMs);
      s.timers.add(timer);
    }
    this.safe(() => this.opts.onOpen?.(this.sender(s), s.gen));
    if (s.role === 'next') {
      // A new socket that never delivers data while the old one does is broken (a bad subscription,
      // a half-open server): give up on it after the stale window rather than hand over to it.
      this.addTimer(s, this.staleAfterMs, () => this.handoverDeadline(s));
      return;
    }
    this.becameServing(s);
  }

  /** `s` is open and serving: end an outage, if any, and plan its rotation. */
  private becameServing(s: Sock): void {
    const t = s.openedAt!;
    this.connectedSince = t;
    this.backoff.succeeded();
    this.scheduleRotation(s);
    const outage = this.outage;
    this.outage = null;
    if (outage) {
      if (this.everUp) this.counters.reconnects++;
      if (outage.start !== null) {
        const tries = outage.failedAttempts;
        const detail =
          tries > 0
            ? `${outage.detail}; ${tries} failed reconnect attempt${tries > 1 ? 's' : ''}, last: ${outage.lastError}`
            : outage.detail;
        this.safe(() => this.opts.onGap?.({ cause: outage.cause, start: outage.start!, end: t, detail }));
      }
    }
    if (outage || !this.everUp) this.safe(() => this.opts.onUp?.(s.gen));
    this.everUp = true;
  }

  private handleFrame(s: Sock): void {
    s.lastFrameAt = this.now();
  }

  private handleMessage(s: Sock, data: RawData): void {
    if (this.stopped || s.closed) return;
    const t = this.now();
    s.lastFrameAt = t;
    const text = rawToText(data);
    this.counters.messages++;
    this.counters.bytes += Buffer.byteLength(text);
    this.lastMessageAt = t;
    if (this.opts.isData ? this.safe(() => this.opts.isData!(text)) === true : true) {
      s.lastDataAt = t;
      if (s.firstDataAt === null) {
        s.firstDataAt = t;
        if (s.role === 'next') this.addTimer(s, this.overlapMs, () => this.promote());
      }
    }
    this.safe(() => this.opts.onMessage(text, t, s.gen));
  }

  private handleClose(s: Sock, code: number, reason: string): void {
    if (s.closed) return;
    s.closed = true;
    this.quiet(s);
    this.sockets.delete(s);
    for (const f of s.onClosed.splice(0)) f();
    if (this.stopped || s.role === 'retired') return;

    const opened = s.openedAt !== null;
    const detail =
      s.failure ??
      (opened
        ? `connection closed: code ${code}${reason ? ` ${reason}` : ''}${s.error ? ` (${s.error})` : ''}`
        : `connect failed: ${s.error ?? `code ${code}`}`);

    if (s.role === 'next') {
      // The old socket keeps serving; try again later.
      this.next = null;
      this.counters.failedRotations++;
      const delay = Math.max(this.rotationBackoff.next(), this.holdOff());
      this.rotationTimer = setTimeout(() => {
        this.rotationTimer = null;
        this.rotate(this.rotationReason ?? 'rotation');
      }, delay);
      return;
    }

    // The serving socket, or the attempt meant to become it.
    this.current = null;
    this.connectedSince = null;
    if (!opened) {
      this.counters.failedConnects++;
      if (this.outage) {
        this.outage.failedAttempts++;
        this.outage.lastError = detail;
      } else {
        // The very first connect failed: nothing was lost yet, but the caller must know it is down.
        this.outage = { start: null, cause: 'disconnect', detail, failedAttempts: 0, lastError: null };
        this.safe(() => this.opts.onDown?.('disconnect', detail));
      }
      this.scheduleReconnect(s.retryAt);
      return;
    }

    this.clearTimer('rotation');
    const cause: ConnectionGapCause = s.stale ? 'stale' : (this.rotationReason ?? 'disconnect');
    const start = s.lastFrameAt;
    const next = this.next;
    const rotationReason = this.rotationReason ?? 'rotation';
    if (next && next.openedAt !== null) {
      // The new socket was already open: it has been receiving since then.
      this.next = null;
      next.role = 'current';
      this.current = next;
      this.rotationReason = null;
      if (next.openedAt > start) {
        this.outage = { start, cause, detail, failedAttempts: 0, lastError: null };
        this.safe(() => this.opts.onDown?.(cause, detail));
      } else {
        this.counters.rotations++;
        this.rotationBackoff.reset();
        this.safe(() => this.opts.onRotated?.({ reason: rotationReason, from: s.gen, to: next.gen }));
      }
      this.becameServing(next);
      return;
    }

    this.outage = { start, cause, detail, failedAttempts: 0, lastError: null };
    this.safe(() => this.opts.onDown?.(cause, detail));
    if (next) {
      // Still connecting: let it be the reconnect attempt.
      this.next = null;
      next.role = 'current';
      this.current = next;
      this.rotationReason = null;
      return;
    }
    this.rotationReason = null;
    this.scheduleReconnect(s.retryAt);
  }

  private scheduleReconnect(retryAt: number | null): void {
    if (this.stopped) return;
    this.clearTimer('reconnect');
    let delay = Math.max(this.backoff.next(), this.holdOff());
    if (retryAt !== null) delay = Math.max(delay, retryAt - this.now());
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped && !this.current) this.connect('current');
    }, delay);
  }

  /** Milliseconds left of an HTTP 429/418 hold. */
  private holdOff(): number {
    return this.rateLimitedUntil === null ? 0 : Math.max(0, this.rateLimitedUntil - this.now());
  }

  // --- rotation --------------------------------------------------------------------------------------

  private scheduleRotation(s: Sock): void {
    this.clearTimer('rotation');
    const after = this.opts.rotateAfterMs ?? DEFAULTS.rotateAfterMs;
    const jitter = this.opts.rotateJitterMs ?? Math.min(300_000, after * 0.05);
    const delay = Math.max(0, after - (this.now() - s.openedAt!)) + Math.floor(this.random() * jitter);
    this.rotationTimer = setTimeout(() => {
      this.rotationTimer = null;
      if (this.current === s) this.rotate('rotation');
    }, delay);
  }

  /** The new socket has been open for the stale window without data. */
  private handoverDeadline(s: Sock): void {
    if (this.next !== s || s.firstDataAt !== null) return;
    const old = this.current;
    if (old && old.lastDataAt !== null && old.lastDataAt > s.openedAt!) {
      s.failure = `rotation: no data on the new connection for ${this.staleAfterMs} ms`;
      this.endSocket(s, 1000, 'rotation failed');
    } else {
      // Neither socket had data: a quiet stream; nothing can be lost by handing over.
      this.promote();
    }
  }

  private promote(): void {
    const next = this.next;
    if (!next || next.closed || this.stopped) return;
    const old = this.current;
    const reason = this.rotationReason ?? 'rotation';
    this.next = null;
    this.rotationReason = null;
    next.role = 'current';
    this.current = next;
    this.counters.rotations++;
    this.rotationBackoff.reset();
    this.connectedSince = next.openedAt;
    this.scheduleRotation(next);
    if (old) {
      old.role = 'retired';
      this.quiet(old);
      this.endSocket(old, 1000, 'rotation');
      this.safe(() => this.opts.onRotated?.({ reason, from: old.gen, to: next.gen }));
    }
  }

  // --- helpers ---------------------------------------------------------------------------------------

  private sender(s: Sock): SendFn {
    return (text) =>
      s.limiter.schedule(() => {
        if (!s.closed && s.ws?.readyState === WebSocket.OPEN) s.ws.send(text);
      });
  }

  private armWatchdog(s: Sock): void {
    // One timer per stale window, re-armed for the remainder: no timer churn per message.
    const check = (): void => {
      if (s.closed) return;
      const idle = this.now() - s.lastFrameAt;
      if (idle < this.staleAfterMs) {
        this.addTimer(s, this.staleAfterMs - idle, check);
        return;
      }
      this.counters.staleDetections++;
      s.stale = true;
      s.failure = `no message for ${idle} ms (stale after ${this.staleAfterMs} ms)`;
      s.ws?.terminate();
    };
    this.addTimer(s, this.staleAfterMs, check);
  }

  private endSocket(s: Sock, code: number, reason: string): void {
    const ws = s.ws;
    if (!ws || s.closed) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
    } else if (ws.readyState === WebSocket.OPEN) {
      ws.close(code, reason);
      // A server that never answers the close frame must not hold the socket (ws waits 30 s).
      const timer = setTimeout(() => ws.terminate(), DEFAULTS.closeTimeoutMs);
      ws.once('close', () => clearTimeout(timer));
    }
  }

  /** Stops a socket's timers and queued sends. */
  private quiet(s: Sock): void {
    for (const t of s.timers) clearTimeout(t);
    s.timers.clear();
    s.limiter.clear();
  }

  private addTimer(s: Sock, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      s.timers.delete(timer);
      fn();
    }, ms);
    s.timers.add(timer);
  }

  private clearTimer(which: 'reconnect' | 'rotation'): void {
    if (which === 'reconnect' && this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    if (which === 'rotation' && this.rotationTimer) {
      clearTimeout(this.rotationTimer);
      this.rotationTimer = null;
    }
  }

  private safe<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.report(err);
      return undefined;
    }
  }

  private report(err: unknown): void {
    const onError = this.opts.onError ?? ((e: unknown) => console.error(`${this.opts.name}:`, e));
    try {
      onError(err);
    } catch {
      // An error handler that throws has nowhere left to report to.
    }
  }
}

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
