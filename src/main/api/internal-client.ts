/**
 * The control API as main itself uses it (the tray, native notifications): the same typed client the
 * windows get, over the router and the event hub directly. In-process listeners do not count as
 * subscribers, so nothing costly (market data) starts for them.
 */
import type { EventName } from '../../shared/api';
import { createClient, type VigilApi } from '../../shared/client';
import type { EventHub } from './event-hub';
import type { Router } from './router';

export function internalClient(router: Router, events: EventHub): VigilApi {
  return createClient({
    invoke: (command, input) => router.dispatch(command, input, { transport: 'internal' }),
    subscribe: (topics: EventName[], listener) =>
      events.listen((event, payload) => {
        if (topics.includes(event)) listener(event, payload);
      }),
  });
}
