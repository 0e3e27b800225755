/** Fan-out of control-API events to every transport connection that subscribed to them. */
import type { EventName, EventPayload } from '../../shared/api';

export type EventListener = (event: EventName, payload: unknown) => void;

export class EventHub {
  private readonly listeners = new Set<EventListener>();

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
}

/** The topics one connection (a window or a WebSocket) subscribed to. */
export class Subscription {
  private readonly topics = new Set<EventName>();
  private readonly off: () => void;

  constructor(hub: EventHub, deliver: EventListener) {
    this.off = hub.listen((event, payload) => {
      if (this.topics.has(event)) deliver(event, payload);
    });
  }

  add(topics: readonly EventName[]): void {
    for (const t of topics) this.topics.add(t);
  }

  remove(topics: readonly EventName[]): void {
    for (const t of topics) this.topics.delete(t);
  }

  list(): EventName[] {
    return [...this.topics];
  }

  close(): void {
    this.topics.clear();
    this.off();
  }
}
