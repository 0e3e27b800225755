/**
 * The bus over a real NATS server (`@nats-io/transport-node`), for collectors spread over more than
 * one machine. Subjects are NATS subjects as-is; each message travels as a JSON envelope `{at, data}`.
 *
 * The NATS client calls our subscription callback synchronously from its socket read loop, so the
 * callback only enqueues into the subscription's bounded queue (subscription.ts, shared with the
 * embedded bus); handlers run later, in their own turns. A slow handler therefore never stalls the
 * client or the other subscriptions, and the server never sees this process as a slow consumer.
 */
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  BusError,
  MAX_MESSAGE_BYTES,
  type Bus,
  type BusGap,
  type BusMessage,
  type BusMetrics,
  type BusSubscription,
  type SubscribeOptions,
} from './types';
import { isValidPattern, isValidSubject } from './subjects';
import { Subscription, type SubscriptionHooks, type SubscriptionWarning } from './subscription';

export type NatsBusWarning = SubscriptionWarning;

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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The client does not read credentials from a URL, but a URL is what a person configures:
 * `nats://user:pass@host:4222` gives user and password, `nats://token@host:4222` a token.
 */
export function splitCredentials(servers: string | string[]): {
  servers: string[];
  credentials: { user?: string; pass?: string; token?: string };
} {
  const credentials: { user?: string; pass?: string; token?: string } = {};
  const plain = (Array.isArray(servers) ? servers : [servers]).map((server) => {
    const m = /^([a-z]+:\/\/)([^@/]*)@(.+)$/i.exec(server);
    if (!m) return server;
    const [user, pass] = m[2]!.split(':', 2).map(decodeURIComponent) as [string, string | undefined];
    if (pass === undefined) credentials.token = user;
    else Object.assign(credentials, { user, pass });
    return `${m[1]}${m[3]}`;
  });
  return { servers: plain, credentials };
}

/** Waits for `promise`, but not past `deadline` (epoch ms). */
async function within(promise: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
}

export class NatsBus implements Bus {
  /** Each subscription with the call that ends it at the server. */
  private readonly subscriptions = new Map<Subscription, () => void>();
  private readonly hooks: SubscriptionHooks = {
    source: () => this.source,
    onWarning: (w) => this.config.onWarning(w),
    onHandlerError: (error, id) => this.config.onHandlerError(error, id),
    onDelivered: () => void (this.delivered += 1),
    onDropped: () => void (this.dropped += 1),
    onClosed: (subscription) => {
      this.subscriptions.get(subscription)?.();
      this.subscriptions.delete(subscription);
    },
  };
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
    const { servers, credentials } = splitCredentials(options.servers);
    const nc = await connect({
      servers,
      ...credentials,
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
    const local = new Subscription(
      `${this.name}#${this.nextId++}`,
      pattern,
      this.capacity,
      handler,
      options,
      this.hooks,
      this.config.warningIntervalMs,
    );
    const natsSubscription = this.nc.subscribe(pattern, {
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
    this.subscriptions.set(local, () => natsSubscription.unsubscribe());
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
      subscribers: [...this.subscriptions.keys()].map((s) => s.stats()),
    };
  }

  /** Stops new work, lets the server deliver what is in flight, hands queued messages to handlers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const subscriptions = [...this.subscriptions.keys()];
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
        for (const subscription of this.subscriptions.keys()) {
          subscription.offerGap(gap);
        }
      }
    }
  }
}
