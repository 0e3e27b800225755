/**
 * The embedded bus: no server to install. A process that publishes listens on a Unix socket (or TCP
 * loopback); subscribers connect and send their patterns, so routing happens at the publisher and a
 * subject nobody wants never leaves it. Every subscriber (remote or in-process) has its own bounded
 * queue (see SubscriberQueue), so a slow consumer costs drops it is told about, never a stalled publisher.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  BATCH_MAX_BODY_BYTES,
  FrameDecoder,
  encodeBatch,
  encodeFrame,
  encodeWireMessage,
  type Frame,
  type PublisherFrame,
} from './codec';
import { isNamedPipe, PeerLink, parseAddress } from './peer-link';
import { Subscription, type SubscriptionHooks } from './subscription';
import { DropGap, SubscriberQueue, type QueueWarning, type QueuedMessage } from './subscriber-queue';
import { Interest, compilePattern, isValidPattern, isValidSubject, type SubjectMatcher } from './subjects';
import {
  BusError,
  MAX_MESSAGE_BYTES,
  type Bus,
  type BusGap,
  type BusMessage,
  type BusMetrics,
  type BusSubscription,
  type SubscribeOptions,
  type SubscriberStats,
} from './types';

export interface EmbeddedBusOptions {
  /** Unix socket path, or `host:port` such as `127.0.0.1:0`. Without it the bus only subscribes. */
  listen?: string;
  /** Publishers to subscribe from (their `address`). */
  peers?: string[];
  id?: string;
  /** Messages per subscriber queue. */
  queueCapacity?: number;
  batchMaxMessages?: number;
  /** 0 (default) flushes batches on setImmediate; more trades latency for fuller batches. */
  batchMaxDelayMs?: number;
  /** A subscriber falling behind: a remote one at this publisher, or one of this process's subscriptions. */
  onWarning?: (w: QueueWarning) => void;
  /** Where handler exceptions go (default: console.error); they never reach the other subscribers. */
  onHandlerError?: (error: unknown, subscriptionId: string) => void;
}

/** Per-subscriber figures plus what actually went onto its socket (zero for in-process subscribers). */
export interface EmbeddedSubscriberStats extends SubscriberStats {
  remote: boolean;
  bytesSent: number;
  framesSent: number;
}

export interface EmbeddedBusMetrics extends BusMetrics {
  subscribers: EmbeddedSubscriberStats[];
}

export const DEFAULT_QUEUE_CAPACITY = 10_000;
export const DEFAULT_BATCH_MAX_MESSAGES = 512;

/** A subscriber process as the publishing side sees it: its patterns and its bounded queue. */
class RemoteOutlet {
  readonly interest = new Interest();
  bytesSent = 0;
  framesSent = 0;
  private blocked = false;

  constructor(
    readonly queue: SubscriberQueue,
    readonly socket: Socket,
    private readonly batchMaxMessages: number,
  ) {
    socket.on('drain', () => {
      this.blocked = false;
      this.drain();
    });
  }

  stats(): EmbeddedSubscriberStats {
    const q = this.queue;
    return {
      id: q.subscriber,
      patterns: this.interest.list(),
      queueDepth: q.depth,
      capacity: q.capacity,
      delivered: q.delivered,
      dropped: q.dropped,
      warnings: q.warnings,
      remote: true,
      bytesSent: this.bytesSent,
      framesSent: this.framesSent,
    };
  }

  get settled(): boolean {
    return this.socket.destroyed || (this.queue.depth === 0 && this.socket.writableLength === 0);
  }

  /** Moves queued entries onto the socket as far as it takes them right now. */
  drain(): void {
    const q = this.queue;
    const items: string[] = [];
    while (!this.blocked && !this.socket.destroyed && q.depth > 0) {
      const first = q.shift()!;
      if (first instanceof DropGap) {
        const { dropped, from, to } = first;
        this.write(encodeFrame({ t: 'gap', reason: 'dropped', dropped, from, to }));
        continue;
      }
      items.length = 0;
      let bytes = 0;
      let entry: QueuedMessage = first;
      for (;;) {
        entry.wire ??= encodeWireMessage(entry.subject, entry.at, entry.dataJson);
        items.push(entry.wire);
        bytes += entry.bytes;
        const next = q.peek();
        if (!next || next instanceof DropGap) break;
        if (items.length >= this.batchMaxMessages || bytes >= BATCH_MAX_BODY_BYTES) break;
        entry = q.shift() as QueuedMessage;
      }
      q.delivered += items.length;
      this.write(encodeBatch(items));
    }
  }

  private write(buf: Buffer): void {
    this.bytesSent += buf.length;
    this.framesSent += 1;
    // Past the socket's high-water mark we stop draining: the bounded queue absorbs the rest.
    if (!this.socket.write(buf)) this.blocked = true;
  }
}

export class EmbeddedBus implements Bus {
  readonly id: string;
  /** The address actually bound (`host:port` with the real port, or the socket path); '' if not listening. */
  address = '';
  private server: Server | undefined;
  private readonly outlets = new Set<RemoteOutlet>();
  private readonly dirty = new Set<RemoteOutlet>();
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly capacity: number;
  private readonly batchMaxMessages: number;
  private readonly batchMaxDelayMs: number;
  private published = 0;
  private rejected = 0;
  private droppedByGone = 0;
  private deliveredByGone = 0;
  private closed = false;
  private nextLocal = 0;
  private nextAnon = 0;
  // Subscribing side.
  private readonly links: PeerLink[] = [];
  private readonly subscriptions = new Map<Subscription, SubjectMatcher>();
  private readonly remotePatterns = new Interest();
  private readonly routeCache = new Map<string, Subscription[]>();
  private subsDelivered = 0;
  private subsDropped = 0;
  private readonly hooks: SubscriptionHooks = {
    source: () => this.id,
    onWarning: (w) =>
      this.options.onWarning?.({ subscriber: w.subscriptionId, depth: w.queueDepth, capacity: w.capacity }),
    onHandlerError: (error, id) =>
      (this.options.onHandlerError ?? ((e, i) => console.error(`bus: handler of ${i} threw`, e)))(error, id),
    onDelivered: () => void (this.subsDelivered += 1),
    onDropped: () => void (this.subsDropped += 1),
    onClosed: (subscription) => this.forget(subscription),
  };

  private constructor(private readonly options: EmbeddedBusOptions) {
    this.id = options.id ?? `bus-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.capacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.batchMaxMessages = options.batchMaxMessages ?? DEFAULT_BATCH_MAX_MESSAGES;
    this.batchMaxDelayMs = options.batchMaxDelayMs ?? 0;
  }

  static async open(options: EmbeddedBusOptions = {}): Promise<EmbeddedBus> {
    const bus = new EmbeddedBus(options);
    if (options.listen !== undefined) await bus.listen(options.listen);
    for (const peer of options.peers ?? []) bus.addPeer(peer);
    return bus;
  }

  /** Resolves when every peer connection is up (it may go down again later; gaps report that). */
  async whenConnected(): Promise<void> {
    await Promise.all(this.links.map((l) => l.whenConnected()));
  }

  publish(subject: string, data: unknown): void {
    if (this.closed) throw new BusError('closed', 'bus is closed');
    if (!isValidSubject(subject)) {
      this.rejected += 1;
      throw new BusError('invalid_subject', `invalid subject: ${JSON.stringify(subject).slice(0, 300)}`);
    }
    const dataJson = JSON.stringify(data) ?? 'null';
    const size = Buffer.byteLength(dataJson);
    if (size > MAX_MESSAGE_BYTES) {
      this.rejected += 1;
      throw new BusError('too_large', `message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}`);
    }
    this.published += 1;
    let message: QueuedMessage | undefined;
    const now = Date.now();
    for (const outlet of this.outlets) {
      if (!outlet.interest.matches(subject)) continue;
      message ??= { subject, at: now, data, dataJson, bytes: size + subject.length + 24 };
      if (!outlet.queue.offer(message, now)) continue;
      // A full batch goes out now (socket writes never block); the rest waits for the flush turn.
      if (outlet.queue.depth >= this.batchMaxMessages) outlet.drain();
      else this.markDirty(outlet);
    }
    // This process's own subscriptions get the published object itself, not a copy: treat messages
    // as immutable.
    const local = this.route(subject);
    if (local.length > 0) {
      const delivered: BusMessage = { subject, data, at: now };
      for (const sub of local) sub.offer(delivered, now);
    }
  }

  subscribe(
    pattern: string,
    handler: (message: BusMessage) => void,
    options: SubscribeOptions = {},
  ): BusSubscription {
    if (this.closed) throw new BusError('closed', 'bus is closed');
    if (!isValidPattern(pattern)) {
      this.rejected += 1;
      throw new BusError(
        'invalid_subject',
        `invalid subject pattern: ${JSON.stringify(pattern).slice(0, 300)}`,
      );
    }
    const sub = new Subscription(
      `${this.id}/sub-${++this.nextLocal}`,
      pattern,
      this.capacity,
      handler,
      options,
      this.hooks,
    );
    this.subscriptions.set(sub, compilePattern(pattern));
    this.routeCache.clear();
    // The pattern travels to every peer publisher, which routes there (interest filtering).
    if (this.remotePatterns.add(pattern))
      for (const link of this.links) link.send({ t: 'sub', patterns: [pattern] });
    return sub;
  }

  /**
   * Waits until every queue is empty and every socket has handed its bytes to the kernel. A subscriber
   * that has stopped reading keeps this pending until it reads again or goes away (its messages are not
   * "gone" yet), so callers that must not wait on consumers should bound it with a timeout.
   */
  async flush(): Promise<void> {
    for (let turn = 0; ; turn++) {
      for (const outlet of this.outlets) outlet.drain();
      if ([...this.outlets].every((o) => o.settled) && [...this.subscriptions.keys()].every((s) => s.drained))
        return;
      await new Promise((resolve) => (turn < 10 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  }

  /**
   * `subscribers` lists both ends this process holds: the subscriber processes connected to it as a
   * publisher (remote: true, their queues here) and its own subscriptions (remote: false).
   */
  metrics(): EmbeddedBusMetrics {
    const remote = [...this.outlets].map((o) => o.stats());
    const own = [...this.subscriptions.keys()].map((s): EmbeddedSubscriberStats => ({
      ...s.stats(),
      remote: false,
      bytesSent: 0,
      framesSent: 0,
    }));
    return {
      published: this.published,
      delivered: this.deliveredByGone + this.subsDelivered + remote.reduce((n, s) => n + s.delivered, 0),
      dropped: this.droppedByGone + this.subsDropped + remote.reduce((n, s) => n + s.dropped, 0),
      rejected: this.rejected,
      subscribers: [...remote, ...own],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    for (const link of this.links) link.stop();
    for (const outlet of [...this.outlets]) {
      outlet.socket.destroy();
      this.retireOutlet(outlet);
    }
    for (const sub of [...this.subscriptions.keys()]) sub.unsubscribe();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Subscribes from one more publisher (idempotent): the supervisor adds services as they launch. */
  addPeer(address: string): void {
    if (this.links.some((l) => l.address === address)) return;
    const link = new PeerLink(address, {
      id: this.id,
      patterns: () => this.remotePatterns.list(),
      onFrame: (source, frame) => this.dispatchRemote(source, frame),
      onGap: (gap) => this.dispatchGap(gap),
      onRejected: () => {
        this.rejected += 1;
      },
    });
    this.links.push(link);
    link.start();
  }

  removePeer(address: string): void {
    const i = this.links.findIndex((l) => l.address === address);
    if (i < 0) return;
    this.links[i]!.stop();
    this.links.splice(i, 1);
  }

  private dispatchRemote(source: string, frame: PublisherFrame): void {
    if (frame.t === 'gap') {
      const { reason, dropped, from, to } = frame;
      this.dispatchGap({ source, reason, ...(dropped === undefined ? {} : { dropped }), from, to });
      return;
    }
    const now = Date.now();
    for (const [subject, at, data] of frame.msgs) {
      const subs = this.route(subject);
      if (subs.length === 0) continue;
      const message: BusMessage = { subject, data, at };
      for (const sub of subs) sub.offer(message, now);
    }
  }

  private dispatchGap(gap: BusGap): void {
    for (const sub of this.subscriptions.keys()) sub.offerGap(gap);
  }

  /** This process's subscriptions that want `subject` (cached: a collector has a handful of subjects). */
  private route(subject: string): Subscription[] {
    let subs = this.routeCache.get(subject);
    if (!subs) {
      subs = [];
      for (const [sub, matches] of this.subscriptions) if (matches(subject)) subs.push(sub);
      if (this.routeCache.size >= 4096) this.routeCache.clear();
      this.routeCache.set(subject, subs);
    }
    return subs;
  }

  private forget(sub: Subscription): void {
    if (!this.subscriptions.delete(sub)) return;
    this.routeCache.clear();
    if (this.remotePatterns.remove(sub.pattern) && !this.closed) {
      for (const link of this.links) link.send({ t: 'unsub', patterns: [sub.pattern] });
    }
  }

  private markDirty(outlet: RemoteOutlet): void {
    this.dirty.add(outlet);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = (): void => {
      this.flushScheduled = false;
      const outlets = [...this.dirty];
      this.dirty.clear();
      for (const o of outlets) o.drain();
    };
    if (this.batchMaxDelayMs > 0) this.flushTimer = setTimeout(run, this.batchMaxDelayMs);
    else setImmediate(run);
  }

  private retireOutlet(outlet: RemoteOutlet): void {
    if (!this.outlets.delete(outlet)) return;
    this.dirty.delete(outlet);
    this.deliveredByGone += outlet.queue.delivered;
    this.droppedByGone += outlet.queue.dropped;
    outlet.queue.clear();
  }

  private async listen(address: string): Promise<void> {
    const target = parseAddress(address);
    if ('path' in target) await removeStaleSocket(target.path);
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if ('path' in target) server.listen(target.path, done);
      else server.listen(target.port, target.host, done);
    });
    const bound = server.address();
    this.address = typeof bound === 'string' || bound === null ? address : `${bound.address}:${bound.port}`;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const queue = new SubscriberQueue(`anon-${++this.nextAnon}`, this.capacity, this.options.onWarning);
    const outlet = new RemoteOutlet(queue, socket, this.batchMaxMessages);
    const decoder = new FrameDecoder((frame: Frame) => {
      switch (frame.t) {
        case 'hello':
          queue.subscriber = frame.id.slice(0, 200);
          break;
        case 'sub':
          for (const p of frame.patterns) {
            if (!isValidPattern(p)) throw new ProtocolViolation(p);
            if (!outlet.interest.has(p)) outlet.interest.add(p);
          }
          break;
        case 'unsub':
          for (const p of frame.patterns) outlet.interest.delete(p);
          break;
        default:
          throw new ProtocolViolation(`unexpected frame ${frame.t}`);
      }
    });
    this.outlets.add(outlet);
    socket.on('data', (chunk: Buffer) => {
      let ok: boolean;
      try {
        ok = decoder.push(chunk).ok;
      } catch {
        ok = false;
      }
      if (!ok) {
        this.rejected += 1;
        socket.destroy();
      }
    });
    socket.on('error', () => {
      // 'close' follows.
    });
    socket.on('close', () => this.retireOutlet(outlet));
  }
}

/** A well-formed frame a publisher must still refuse (bad pattern, publisher-only frame type). */
class ProtocolViolation extends Error {}

/**
 * A publisher killed with SIGKILL leaves its socket file behind; remove it only when nothing answers
 * on it, so a second live publisher on the same path is refused instead of silently replaced.
 */
async function removeStaleSocket(path: string): Promise<void> {
  if (isNamedPipe(path) || !existsSync(path)) return; // a pipe vanishes with its listener
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another publisher is listening on ${path}`);
  rmSync(path, { force: true });
}
