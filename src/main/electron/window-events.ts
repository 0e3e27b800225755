/**
 * Forwards control-API events to windows: one Subscription (the topics that window asked for) per
 * webContents, closed when the webContents is destroyed, and nothing sent to a destroyed one.
 * Events are batched: a burst (a restart storm, a config import touching every service) reaches a
 * window as one IPC message per flush interval, in order, instead of one message per event.
 * A reload keeps the window's topics: resetting them on navigation would race the new page's own
 * subscribe, and the preload simply drops events that no listener of the new page asked for.
 */
import type { EventName } from '../../shared/api';
import type { EventHub } from '../api/event-hub';
import { Subscription } from '../api/event-hub';
import { EVENT_CHANNEL } from '../../shared/ipc-channels';

/** The parts of Electron's WebContents that event delivery needs. */
export interface EventTargetContents {
  readonly id: number;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  once(event: 'destroyed', listener: () => void): unknown;
}

/** What one message on EVENT_CHANNEL carries: [event, payload] pairs in the order they happened. */
export type EventBatch = [EventName, unknown][];

/** At most one message per window this often (~30 a second); a lone event waits at most this long. */
export const EVENT_FLUSH_MS = 33;

export class WindowSubscriptions {
  private readonly byContents = new Map<number, Subscription>();
  private readonly outboxes = new Set<Outbox>();

  constructor(
    private readonly hub: EventHub,
    private readonly flushMs = EVENT_FLUSH_MS,
  ) {}

  /** The window's subscription, created (and tied to the window's lifetime) on first use. */
  of(contents: EventTargetContents): Subscription {
    const existing = this.byContents.get(contents.id);
    if (existing) return existing;
    const outbox = new Outbox(contents, this.flushMs);
    this.outboxes.add(outbox);
    const subscription = new Subscription(this.hub, (event: EventName, payload: unknown) =>
      outbox.push(event, payload),
    );
    this.byContents.set(contents.id, subscription);
    contents.once('destroyed', () => {
      subscription.close();
      outbox.drop();
      this.outboxes.delete(outbox);
      this.byContents.delete(contents.id);
    });
    return subscription;
  }

  /** The window's subscription if it has one (unsubscribing never creates one). */
  find(contents: EventTargetContents): Subscription | undefined {
    return this.byContents.get(contents.id);
  }

  closeAll(): void {
    for (const subscription of this.byContents.values()) subscription.close();
    for (const outbox of this.outboxes) outbox.drop();
    this.outboxes.clear();
    this.byContents.clear();
  }
}

/** One window's pending events, sent together at most once per interval. */
class Outbox {
  private batch: EventBatch = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSentAt = -Infinity;

  constructor(
    private readonly contents: EventTargetContents,
    private readonly flushMs: number,
  ) {}

  push(event: EventName, payload: unknown): void {
    if (this.contents.isDestroyed()) return;
    this.batch.push([event, payload]);
    // A zero delay still gathers what the same tick emits (one transition emits several events).
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.lastSentAt + this.flushMs - Date.now()));
  }

  drop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.batch = [];
  }

  private flush(): void {
    this.timer = null;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0 || this.contents.isDestroyed()) return;
    this.lastSentAt = Date.now();
    this.contents.send(EVENT_CHANNEL, batch);
  }
}
