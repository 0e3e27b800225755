/** Fan-out of control-API events to every transport connection that subscribed to them. */
import type { EventName, EventPayload } from '../../shared/api';

export type EventListener = (event: EventName, payload: unknown) => void;
/** How many connections (windows, WebSockets) subscribe to `event` now, told at every change. */
export type InterestListener = (event: EventName, subscribers: number) => void;

export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private readonly interest = new Map<EventName, number>();
  private readonly interestListeners = new Set<InterestListener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        // One broken connection must not stop delivery to the others.
        console.error(`[events] listener for ${event} failed:`, error);
      }
    }
  }

  listen(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The connections subscribed to `event` (in-process listeners do not count). */
  subscribers(event: EventName): number {
    return this.interest.get(event) ?? 0;
  }

  /**
   * Told whenever the number of connections subscribed to an event changes, so something costly
   * (market data for the UI) runs only while somebody looks at it.
   */
  onInterest(listener: InterestListener): () => void {
    this.interestListeners.add(listener);
    return () => this.interestListeners.delete(listener);
  }

  /** Called by Subscription as its topics come and go. */
  changeInterest(event: EventName, delta: 1 | -1): void {
    const count = Math.max(0, (this.interest.get(event) ?? 0) + delta);
    if (count === 0) this.interest.delete(event);
    else this.interest.set(event, count);
    for (const listener of this.interestListeners) {
      try {
        listener(event, count);
      } catch (error) {
        console.error(`[events] interest listener for ${event} failed:`, error);
      }
    }
  }
}

/** The topics one connection (a window or a WebSocket) subscribed to. */
export class Subscription {
  private readonly topics = new Set<EventName>();
  private readonly off: () => void;

  constructor(
    private readonly hub: EventHub,
    deliver: EventListener,
  ) {
    this.off = hub.listen((event, payload) => {
      if (this.topics.has(event)) deliver(event, payload);
    });
  }

  add(topics: readonly EventName[]): void {
    for (const t of topics) {
      if (this.topics.has(t)) continue;
      this.topics.add(t);
      this.hub.changeInterest(t, 1);
    }
  }

  remove(topics: readonly EventName[]): void {
    for (const t of topics) {
      if (this.topics.delete(t)) this.hub.changeInterest(t, -1);
    }
  }

  list(): EventName[] {
    return [...this.topics];
  }

  close(): void {
    this.remove([...this.topics]);
    this.off();
  }
}
