/**
 * The testable half of the preload: the IPC Transport behind `window.vigil`, and its exposure.
 * The renderer gets the contract's functions plus `on`, nothing else: no ipcRenderer, no channels,
 * no process, and event callbacks never see Electron's IpcRendererEvent (it carries `sender`).
 */
import type { EventName } from '../shared/api';
import type { Transport, VigilApi } from '../shared/client';
import { createClient } from '../shared/client';
import type { Envelope } from '../shared/errors';
import { fail, isApiErrorShape } from '../shared/errors';
import { CALL_CHANNEL, EVENT_CHANNEL, SUBSCRIBE_CHANNEL, UNSUBSCRIBE_CHANNEL } from '../shared/ipc-channels';

/** The parts of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

type Log = (message: string, detail?: unknown) => void;

const defaultLog: Log = (message, detail) => console.warn(`[vigil] ${message}`, detail ?? '');

export function createIpcTransport(ipc: IpcRendererLike, log: Log = defaultLog): Transport {
  // Main is told about a topic only when its first listener arrives or its last one leaves.
  const refcounts = new Map<EventName, number>();
  const listeners = new Set<{
    topics: ReadonlySet<EventName>;
    deliver: (event: EventName, payload: unknown) => void;
  }>();

  // Main batches events (window-events.ts): one message holds [event, payload] pairs in order.
  ipc.on(EVENT_CHANNEL, (_ipcEvent, batch) => {
    if (!Array.isArray(batch)) return;
    for (const item of batch as unknown[]) {
      if (!Array.isArray(item) || typeof item[0] !== 'string') continue;
      const [event, payload] = item as [string, unknown];
      for (const listener of [...listeners]) {
        if (!listener.topics.has(event as EventName)) continue;
        try {
          listener.deliver(event as EventName, payload);
        } catch (error) {
          log(`a listener for ${event} threw`, error); // one bad callback must not starve the others
        }
      }
    }
  });

  const tellMain = (channel: string, topics: EventName[]): void => {
    ipc.invoke(channel, topics).then(
      (reply) => {
        if (!isEnvelope(reply) || !reply.ok) log(`${channel} ${topics.join(',')} refused`, reply);
      },
      (error: unknown) => log(`${channel} ${topics.join(',')} failed`, error),
    );
  };

  return {
    async invoke(command, input) {
      try {
        const reply = await ipc.invoke(CALL_CHANNEL, command, input);
        return isEnvelope(reply) ? reply : fail('internal', `${command}: malformed reply from main`);
      } catch (error) {
        // invoke rejects only before main answers: an argument that cannot be cloned, or no handler.
        const message = error instanceof Error ? error.message : String(error);
        return /could not be cloned/i.test(message)
          ? fail('bad_request', `${command}: input cannot be sent (${message})`)
          : fail('unavailable', `${command}: ${message}`);
      }
    },

    subscribe(topics, deliver) {
      const unique = [...new Set(topics)];
      const entry = { topics: new Set(unique), deliver };
      listeners.add(entry);
      const added = unique.filter((topic) => {
        const count = (refcounts.get(topic) ?? 0) + 1;
        refcounts.set(topic, count);
        return count === 1;
      });
      if (added.length > 0) tellMain(SUBSCRIBE_CHANNEL, added);

      let active = true;
      return () => {
        if (!active) return; // calling the unsubscribe function twice must not steal another listener's count
        active = false;
        listeners.delete(entry);
        const removed = unique.filter((topic) => {
          const count = (refcounts.get(topic) ?? 1) - 1;
          if (count === 0) refcounts.delete(topic);
          else refcounts.set(topic, count);
          return count === 0;
        });
        if (removed.length > 0) tellMain(UNSUBSCRIBE_CHANNEL, removed);
      };
    },
  };
}

/** Builds the client and exposes it as `window.vigil`, the only thing this preload puts in the page. */
export function exposeVigil(contextBridge: ContextBridgeLike, ipcRenderer: IpcRendererLike): VigilApi {
  const api = createClient(createIpcTransport(ipcRenderer));
  contextBridge.exposeInMainWorld('vigil', api);
  return api;
}

function isEnvelope(value: unknown): value is Envelope<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: unknown };
  return v.ok === true ? 'result' in v : v.ok === false && isApiErrorShape(v.error);
}
