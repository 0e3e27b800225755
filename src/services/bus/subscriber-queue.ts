/**
 * One subscriber's bounded queue at the publisher, with the backpressure rule from the design: a
 * rate-limited warning at 70 % full, new messages dropped (and counted) from 95 %, and a gap marker
 * queued in stream order once room returns, so the subscriber hears exactly how many it lost.
 */

/** A published message as it sits in queues; shared by every subscriber it is routed to. */
export interface QueuedMessage {
  readonly subject: string;
  readonly at: number;
  readonly data: unknown;
  readonly dataJson: string;
  /** Approximate wire size, used to bound batch frames. */
  readonly bytes: number;
  /** The batch entry, serialized lazily once and reused for every remote subscriber. */
  wire?: string;
}

export class DropGap {
  constructor(
    readonly dropped: number,
    readonly from: number,
    readonly to: number,
  ) {}
}

export type QueueEntry<T = QueuedMessage> = T | DropGap;

export interface QueueWarning {
  subscriber: string;
  depth: number;
  capacity: number;
}

export const WARN_FRACTION = 0.7;
export const DROP_FRACTION = 0.95;
export const WARNING_INTERVAL_MS = 10_000;

/** Generic over what it holds: the embedded bus queues QueuedMessage, the NATS backend its own entries. */
export class SubscriberQueue<T = QueuedMessage> {
  delivered = 0;
  dropped = 0;
  warnings = 0;
  private entries: (QueueEntry<T> | undefined)[] = [];
  private head = 0;
  private readonly warnAt: number;
  private readonly dropAt: number;
  private lastWarningAt = -Infinity;
  private pendingDrops = 0;
  private dropFrom = 0;
  private dropTo = 0;

  constructor(
    public subscriber: string,
    readonly capacity: number,
    private readonly onWarning: ((w: QueueWarning) => void) | undefined,
    private readonly warningIntervalMs = WARNING_INTERVAL_MS,
  ) {
    this.warnAt = Math.max(1, Math.floor(capacity * WARN_FRACTION));
    this.dropAt = Math.max(1, Math.floor(capacity * DROP_FRACTION));
  }

  get depth(): number {
    return this.entries.length - this.head;
  }

  /** Queues the message unless the subscriber is too far behind; returns false when it was dropped. */
  offer(message: T, now: number): boolean {
    const depth = this.depth;
    if (depth >= this.warnAt && now - this.lastWarningAt >= this.warningIntervalMs) {
      this.lastWarningAt = now;
      this.warnings += 1;
      try {
        this.onWarning?.({ subscriber: this.subscriber, depth, capacity: this.capacity });
      } catch {
        // A faulty warning callback must not break publishing.
      }
    }
    // Once dropping, keep dropping until the queue is back under the warning level: one clear gap
    // instead of a flicker of tiny gaps at the 95 % line.
    if (this.pendingDrops > 0 ? depth >= this.warnAt : depth >= this.dropAt) {
      if (this.pendingDrops === 0) this.dropFrom = now;
      this.pendingDrops += 1;
      this.dropTo = now;
      this.dropped += 1;
      return false;
    }
    if (this.pendingDrops > 0) this.closeGap();
    this.entries.push(message);
    return true;
  }

  /** Queues an entry that backpressure must never drop (a record of loss, such as a disconnect). */
  push(entry: T): void {
    this.entries.push(entry);
  }

  peek(): QueueEntry<T> | undefined {
    return this.entries[this.head];
  }

  shift(): QueueEntry<T> | undefined {
    const entry = this.entries[this.head];
    if (entry === undefined) return undefined;
    this.entries[this.head] = undefined; // let the message be collected before the next compaction
    this.head += 1;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (this.pendingDrops > 0 && this.depth < this.warnAt) this.closeGap();
    return entry;
  }

  /** Forgets everything queued (the subscriber went away). */
  clear(): void {
    this.entries = [];
    this.head = 0;
    this.pendingDrops = 0;
  }

  private closeGap(): void {
    this.entries.push(new DropGap(this.pendingDrops, this.dropFrom, this.dropTo));
    this.pendingDrops = 0;
  }
}
