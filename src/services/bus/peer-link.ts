/**
 * The subscribing side of one connection to a publisher: connects, says hello and sends the current
 * patterns, decodes frames, and reconnects with backoff when the publisher goes away, reporting the
 * outage as a `disconnected` gap once it is back.
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame, type Frame, type PublisherFrame, type SubscriberFrame } from './codec';
import type { BusGap } from './types';

export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 2_000;

export type BusAddress = { path: string } | { host: string; port: number };

/** A Windows named pipe (`\\.\pipe\name`): it leaves no file behind and needs none removed. */
export const isNamedPipe = (path: string): boolean => /^\\\\[.?]\\pipe\\/i.test(path);

/** `host:port` for TCP (e.g. `127.0.0.1:0`), anything else is a Unix socket path (or a Windows pipe). */
export function parseAddress(address: string): BusAddress {
  const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(address);
  if (m && !address.includes('/')) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  return { path: address };
}

export interface PeerLinkHooks {
  id: string;
  patterns(): string[];
  onFrame(source: string, frame: PublisherFrame): void;
  onGap(gap: BusGap): void;
  onRejected(): void;
}

export class PeerLink {
  private socket: Socket | undefined;
  private connected = false;
  private lostAt: number | undefined;
  private backoff = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly connectedWaiters: (() => void)[] = [];

  constructor(
    readonly address: string,
    private readonly hooks: PeerLinkHooks,
  ) {}

  start(): void {
    this.connect();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once connected (now or later); used by tests and callers who must not miss the start. */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  send(frame: SubscriberFrame): void {
    if (this.connected) this.socket?.write(encodeFrame(frame));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
    this.socket = undefined;
    this.connected = false;
  }

  private connect(): void {
    if (this.stopped) return;
    const target = parseAddress(this.address);
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    socket.setNoDelay?.(true);
    this.socket = socket;
    const decoder = new FrameDecoder((frame: Frame) => {
      if (frame.t === 'batch' || frame.t === 'gap') this.hooks.onFrame(this.address, frame);
    });
    socket.on('connect', () => {
      this.connected = true;
      this.backoff = RECONNECT_MIN_MS;
      socket.write(encodeFrame({ t: 'hello', id: this.hooks.id }));
      const patterns = this.hooks.patterns();
      if (patterns.length > 0) socket.write(encodeFrame({ t: 'sub', patterns }));
      if (this.lostAt !== undefined) {
        this.hooks.onGap({ source: this.address, reason: 'disconnected', from: this.lostAt, to: Date.now() });
        this.lostAt = undefined;
      }
      for (const resolve of this.connectedWaiters.splice(0)) resolve();
    });
    socket.on('data', (chunk: Buffer) => {
      if (!decoder.push(chunk).ok) {
        this.hooks.onRejected();
        socket.destroy();
      }
    });
    socket.on('error', () => {
      // 'close' follows and schedules the reconnect.
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      if (this.connected) this.lostAt ??= Date.now();
      this.connected = false;
      this.socket = undefined;
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, RECONNECT_MAX_MS);
    });
  }
}
