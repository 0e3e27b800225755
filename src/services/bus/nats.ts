/**
 * The bus over a real NATS server (`@nats-io/transport-node`), for collectors spread over more than
 * one machine. Subjects are NATS subjects as-is; each message travels as a JSON envelope `{at, data}`.
 *
 * The NATS client calls our subscription callback synchronously from its socket read loop, so the
 * callback only enqueues into a bounded per-subscription queue; handlers run later, in their own
 * turns, with the embedded bus' backpressure rule (a rate-limited warning at 70 %, new messages
 * dropped from 95 % until the queue is back under 70 %, then a `dropped` gap in stream order). A slow
 * handler therefore never stalls the client or the other subscriptions, and the server never sees
 * this process as a slow consumer. A handler that returns a promise gets its next message only once
 * the promise settles.
 */
import { DropGap, SubscriberQueue } from './subscriber-queue';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
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
import { isValidPattern, isValidSubject } from './subjects';

export interface NatsBusWarning {
  subscriptionId: string;
  pattern: string;
  queueDepth: number;
  capacity: number;
}

export interface NatsBusOptions {
  servers: string | string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Connection name, shown by the server (and used in subscriber ids). */
  name?: string;
  /** Per subscription. */
  queueCapacity?: number;
  /** Delay between reconnect attempts; short, because a local server restart should be invisible. */
  reconnectTimeWaitMs?: number;
  /** Minimum time between two 70 % warnings of one subscription. */
  warningIntervalMs?: number;
  /** Where 70 % warnings go (default: console.warn). */
  onWarning?: (warning: NatsBusWarning) => void;
  /** How long close() lets handlers work through their queues before discarding the rest. */
  closeTimeoutMs?: number;
  /** Where handler exceptions go (default: console.error); they never reach the NATS client. */
  onHandlerError?: (error: unknown, subscriptionId: string) => void;
}

export const DEFAULT_QUEUE_CAPACITY = 10_000;
const DEFAULT_WARNING_INTERVAL_MS = 10_000;
const DEFAULT_RECONNECT_TIME_WAIT_MS = 250;
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** One delivery turn gives up the event loop after this long, so socket reads keep going. */
const DELIVERY_SLICE_MS = 5;

/** What a subscription queues: messages (subject to backpressure) and disconnect gaps (never dropped). */
type NatsEntry = { kind: 'message'; message: BusMessage } | { kind: 'gap'; gap: BusGap };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Waits for `promise`, but not past `deadline` (epoch ms). */
async function within(promise: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** One subscription's bounded queue (the same SubscriberQueue as the embedded bus) and its delivery loop. */
class LocalSubscription implements BusSubscription {
  private readonly queue: SubscriberQueue<NatsEntry>;
  private scheduled = false;
  /** True while an async handler's promise is pending: deliveries are one at a time. */
  private awaiting = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  readonly createdAt = Date.now();
  natsSubscription: Subscription | null = null;

  constructor(
    readonly id: string,
    readonly pattern: string,
    capacity: number,
    private readonly handler: (message: BusMessage) => void,
    private readonly options: SubscribeOptions,
    private readonly bus: NatsBus,
    private readonly config: Required<
      Pick<NatsBusOptions, 'warningIntervalMs' | 'onWarning' | 'onHandlerError'>
    >,
  ) {
    this.queue = new SubscriberQueue<NatsEntry>(
      id,
      capacity,
      (w) => config.onWarning({ subscriptionId: id, pattern, queueDepth: w.depth, capacity }),
      config.warningIntervalMs,
    );
  }

  get depth(): number {
    return this.queue.depth;
  }

  /** Called from the NATS client's read loop: O(1) work, never runs the handler. */
  offer(message: BusMessage): void {
    if (this.closed) return;
    if (this.queue.offer({ kind: 'message', message }, Date.now())) this.schedule();
    else this.bus.countDropped();
  }

  /** Gaps are never dropped: they are the record of what was lost. */
  offerGap(gap: BusGap): void {
    if (this.closed) return;
    this.queue.push({ kind: 'gap', gap });
    this.schedule();
  }

  stats(): SubscriberStats {
    const q = this.queue;
    return {
      id: this.id,
      patterns: [this.pattern],
      queueDepth: q.depth,
      capacity: q.capacity,
      delivered: q.delivered,
      dropped: q.dropped,
      warnings: q.warnings,
    };
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.natsSubscription?.unsubscribe();
    this.queue.clear();
    this.bus.forget(this);
    this.notifyIdle();
  }

  /** Resolves once everything queued so far has been handed to the handler (or on unsubscribe). */
  idle(): Promise<void> {
    if (this.closed || (this.depth === 0 && !this.awaiting)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.awaiting || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    const started = performance.now();
    while (!this.closed && !this.awaiting) {
      const entry = this.queue.shift();
      if (entry === undefined) break;
      this.run(entry);
      if (performance.now() - started >= DELIVERY_SLICE_MS) break;
    }
    if (this.depth > 0) this.schedule();
    else if (!this.awaiting) this.notifyIdle();
  }

  private run(entry: DropGap | NatsEntry): void {
    try {
      if (entry instanceof DropGap) {
        const { dropped, from, to } = entry;
        this.options.onGap?.({ source: this.bus.source, reason: 'dropped', dropped, from, to });
        return;
      }
      if (entry.kind === 'gap') {
        this.options.onGap?.(entry.gap);
        return;
      }
      this.queue.delivered += 1;
      this.bus.countDelivered();
      const result: unknown = this.handler(entry.message);
      if (isThenable(result)) {
        this.awaiting = true;
        const resume = (): void => {
          this.awaiting = false;
          this.schedule();
          if (this.depth === 0) this.notifyIdle();
        };
        result.then(resume, (error: unknown) => {
          this.config.onHandlerError(error, this.id);
          resume();
        });
      }
    } catch (error) {
      this.config.onHandlerError(error, this.id);
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

export class NatsBus implements Bus {
  private readonly subscriptions = new Set<LocalSubscription>();
  private nextId = 1;
  private published = 0;
  private delivered = 0;
  private dropped = 0;
  private rejected = 0;
  private closing: Promise<void> | null = null;
  private statusLoop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly name: string,
    private readonly capacity: number,
    private readonly closeTimeoutMs: number,
    private readonly config: Required<
      Pick<NatsBusOptions, 'warningIntervalMs' | 'onWarning' | 'onHandlerError'>
    >,
  ) {}

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const capacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`queueCapacity must be a positive integer`);
    const name = options.name ?? `vigil-${process.pid}`;
    const nc = await connect({
      servers: options.servers,
      name,
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.pass !== undefined ? { pass: options.pass } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_TIME_WAIT_MS,
    });
    const bus = new NatsBus(nc, name, capacity, options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS, {
      warningIntervalMs: options.warningIntervalMs ?? DEFAULT_WARNING_INTERVAL_MS,
      onWarning:
        options.onWarning ??
        ((w) =>
          console.warn(
            `[bus] subscriber ${w.subscriptionId} (${w.pattern}) queue at ${w.queueDepth}/${w.capacity}: falling behind`,
          )),
      onHandlerError:
        options.onHandlerError ??
        ((error, id) => console.error(`[bus] handler of subscriber ${id} threw:`, error)),
    });
    bus.statusLoop = bus.watchStatus();
    return bus;
  }

  /** The server this connection is on, for gap records. */
  get source(): string {
    return this.nc.getServer();
  }

  publish(subject: string, data: unknown): void {
    if (this.closing || this.nc.isClosed()) throw new BusError('closed', 'the bus is closed');
    if (!isValidSubject(subject)) {
      this.rejected += 1;
      throw new BusError('invalid_subject', `invalid subject: ${JSON.stringify(subject)}`);
    }
    let payload: Uint8Array;
    try {
      payload = encoder.encode(JSON.stringify({ at: Date.now(), data }));
    } catch (error) {
      this.rejected += 1;
      throw error;
    }
    // The server's own limit may be lower than ours; exceeding it would cost us the connection.
    const limit = Math.min(MAX_MESSAGE_BYTES, this.nc.info?.max_payload ?? MAX_MESSAGE_BYTES);
    if (payload.byteLength > limit) {
      this.rejected += 1;
      throw new BusError(
        'too_large',
        `message on ${subject} is ${payload.byteLength} bytes; the limit is ${limit}`,
      );
    }
    this.nc.publish(subject, payload);
    this.published += 1;
  }

  subscribe(
    pattern: string,
    handler: (message: BusMessage) => void,
    options: SubscribeOptions = {},
  ): BusSubscription {
    if (this.closing) throw new BusError('closed', 'the bus is closed');
    if (!isValidPattern(pattern)) {
      this.rejected += 1;
      throw new BusError('invalid_subject', `invalid subject pattern: ${JSON.stringify(pattern)}`);
    }
    const local = new LocalSubscription(
      `${this.name}#${this.nextId++}`,
      pattern,
      this.capacity,
      handler,
      options,
      this,
      this.config,
    );
    local.natsSubscription = this.nc.subscribe(pattern, {
      callback: (error, msg) => {
        if (error) return; // subscription-level errors (permissions) surface through the status loop
        // Anything thrown here would kill the client's reader and with it the connection.
        try {
          const message = this.decode(msg);
          if (message) local.offer(message);
        } catch (thrown) {
          try {
            this.config.onHandlerError(thrown, local.id);
          } catch {
            // nothing left to tell
          }
        }
      },
    });
    this.subscriptions.add(local);
    return local;
  }

  flush(): Promise<void> {
    if (this.nc.isClosed()) return Promise.resolve();
    return this.nc.flush();
  }

  metrics(): BusMetrics {
    return {
      published: this.published,
      delivered: this.delivered,
      dropped: this.dropped,
      rejected: this.rejected,
      subscribers: [...this.subscriptions].map((s) => s.stats()),
    };
  }

  /** Stops new work, lets the server deliver what is in flight, hands queued messages to handlers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const subscriptions = [...this.subscriptions];
      const deadline = Date.now() + this.closeTimeoutMs;
      // Draining needs a live connection: while the client is still reconnecting it would wait for
      // the server indefinitely, so it gets the same bound as the handlers.
      if (!this.nc.isClosed())
        await within(
          this.nc.drain().catch(() => undefined),
          deadline,
        );
      if (!this.nc.isClosed()) await this.nc.close();
      // A handler that never returns must not hold close() forever: what it has not taken is discarded.
      await within(Promise.all(subscriptions.map((s) => s.idle())), deadline);
      await this.statusLoop; // ends with the connection
      for (const s of subscriptions) s.unsubscribe();
    })();
    return this.closing;
  }

  /** @internal */
  countDelivered(): void {
    this.delivered += 1;
  }

  /** @internal */
  countDropped(): void {
    this.dropped += 1;
  }

  /** @internal */
  forget(subscription: LocalSubscription): void {
    this.subscriptions.delete(subscription);
  }

  private decode(msg: Msg): BusMessage | null {
    try {
      const envelope: unknown = JSON.parse(decoder.decode(msg.data));
      if (
        typeof envelope === 'object' &&
        envelope !== null &&
        typeof (envelope as { at?: unknown }).at === 'number'
      ) {
        const { at, data } = envelope as { at: number; data: unknown };
        return { subject: msg.subject, data, at };
      }
    } catch {
      // fall through: a frame from something that does not speak our envelope
    }
    this.rejected += 1;
    return null;
  }

  /** Turns the client's disconnect/reconnect pair into one `disconnected` gap per subscription. */
  private async watchStatus(): Promise<void> {
    let disconnected: { server: string; from: number } | null = null;
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        disconnected ??= { server: status.server, from: Date.now() };
      } else if (status.type === 'reconnect' && disconnected) {
        const gap: BusGap = {
          source: disconnected.server,
          reason: 'disconnected',
          from: disconnected.from,
          to: Date.now(),
        };
        disconnected = null;
        for (const subscription of this.subscriptions) {
          subscription.offerGap({ ...gap, from: Math.max(gap.from, subscription.createdAt) });
        }
      }
    }
  }
}
