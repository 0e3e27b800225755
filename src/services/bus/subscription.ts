/**
 * One subscription as its own process holds it, the same for both backends: a bounded queue with the
 * backpressure rule of SubscriberQueue (a rate-limited warning at 70 %, new messages dropped from 95 %
 * until the queue is back under 70 %, then a `dropped` gap in stream order) and a delivery loop that
 * runs the handler in its own turns. Whatever hands messages in (a NATS client's read loop, an
 * embedded peer link, a publish in the same process) does O(1) work and never waits for a handler, so
 * a slow handler costs its own subscription drops it is told about, never the connection or its
 * neighbours. A handler that returns a promise gets its next message once the promise settles.
 */
import { DropGap, SubscriberQueue } from './subscriber-queue';
import type { BusGap, BusMessage, BusSubscription, SubscribeOptions, SubscriberStats } from './types';

/** What a subscription queues: messages (subject to backpressure) and outage gaps (never dropped). */
type Entry = { kind: 'message'; message: BusMessage } | { kind: 'gap'; gap: BusGap };

export interface SubscriptionWarning {
  subscriptionId: string;
  pattern: string;
  queueDepth: number;
  capacity: number;
}

export interface SubscriptionHooks {
  /** Named in `dropped` gaps: the bus or server this subscription listens on. */
  source(): string;
  onWarning(warning: SubscriptionWarning): void;
  onHandlerError(error: unknown, subscriptionId: string): void;
  onDelivered(): void;
  onDropped(): void;
  /** The subscription ended (unsubscribe or close): the bus stops routing to it. */
  onClosed(subscription: Subscription): void;
}

/** One delivery turn gives up the event loop after this long, so sockets keep being read. */
const DELIVERY_SLICE_MS = 5;

/**
 * Handlers run inline (no queueing, no extra turn) while they are quick: the inline handler time of
 * one I/O callback (one socket read, one publish loop) is shared by every subscription, and once it
 * passes the slice, messages queue. A fast consumer therefore costs nothing and never drops because a
 * burst arrived in one read, while a slow one falls back on its bounded queue.
 */
const inline = { spentMs: 0, resetScheduled: false };
function chargeInline(ms: number): void {
  inline.spentMs += ms;
  if (inline.resetScheduled) return;
  inline.resetScheduled = true;
  // Microtasks run when the current callback returns: the budget is per callback, not per loop turn.
  queueMicrotask(() => {
    inline.spentMs = 0;
    inline.resetScheduled = false;
  });
}

export class Subscription implements BusSubscription {
  private readonly queue: SubscriberQueue<Entry>;
  private scheduled = false;
  /** True while an async handler's promise is pending: deliveries are one at a time. */
  private awaiting = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  readonly createdAt = Date.now();

  constructor(
    readonly id: string,
    readonly pattern: string,
    capacity: number,
    private readonly handler: (message: BusMessage) => unknown,
    private readonly options: SubscribeOptions,
    private readonly hooks: SubscriptionHooks,
    warningIntervalMs?: number,
  ) {
    this.queue = new SubscriberQueue<Entry>(
      id,
      capacity,
      (w) => hooks.onWarning({ subscriptionId: id, pattern, queueDepth: w.depth, capacity }),
      warningIntervalMs,
    );
  }

  get depth(): number {
    return this.queue.depth;
  }

  /**
   * Nothing more will be handed to the handler without outside help: the queue is empty, or an async
   * handler holds it (flush() must not wait on a consumer that is waiting itself).
   */
  get drained(): boolean {
    return this.closed || this.awaiting || this.queue.depth === 0;
  }

  offer(message: BusMessage, now = Date.now()): void {
    if (this.closed) return;
    if (!this.scheduled && !this.awaiting && this.queue.depth === 0 && inline.spentMs < DELIVERY_SLICE_MS) {
      const started = performance.now();
      this.run({ kind: 'message', message });
      chargeInline(performance.now() - started);
      return;
    }
    if (this.queue.offer({ kind: 'message', message }, now)) this.schedule();
    else this.hooks.onDropped();
  }

  /** Gaps are never dropped: they are the record of what was lost. */
  offerGap(gap: BusGap): void {
    if (this.closed) return;
    this.queue.push({ kind: 'gap', gap: { ...gap, from: Math.max(gap.from, this.createdAt) } });
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
    this.queue.clear();
    this.hooks.onClosed(this);
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

  private run(entry: DropGap | Entry): void {
    try {
      if (entry instanceof DropGap) {
        const { dropped, from, to } = entry;
        this.options.onGap?.({ source: this.hooks.source(), reason: 'dropped', dropped, from, to });
        return;
      }
      if (entry.kind === 'gap') {
        this.options.onGap?.(entry.gap);
        return;
      }
      this.queue.delivered += 1;
      this.hooks.onDelivered();
      const result: unknown = this.handler(entry.message);
      if (isThenable(result)) {
        this.awaiting = true;
        const resume = (): void => {
          this.awaiting = false;
          this.schedule();
          if (this.depth === 0) this.notifyIdle();
        };
        result.then(resume, (error: unknown) => {
          this.hooks.onHandlerError(error, this.id);
          resume();
        });
      }
    } catch (error) {
      this.hooks.onHandlerError(error, this.id);
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
