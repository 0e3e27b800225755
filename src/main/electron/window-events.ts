/**
 * Forwards control-API events to windows: one Subscription (the topics that window asked for) per
 * webContents, closed when the webContents is destroyed, and nothing sent to a destroyed one.
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

export class WindowSubscriptions {
  private readonly byContents = new Map<number, Subscription>();

  constructor(private readonly hub: EventHub) {}

  /** The window's subscription, created (and tied to the window's lifetime) on first use. */
  of(contents: EventTargetContents): Subscription {
    const existing = this.byContents.get(contents.id);
    if (existing) return existing;
    const subscription = new Subscription(this.hub, (event: EventName, payload: unknown) => {
      if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, event, payload);
    });
    this.byContents.set(contents.id, subscription);
    contents.once('destroyed', () => {
      subscription.close();
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
    this.byContents.clear();
  }
}
