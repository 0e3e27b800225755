/**
 * The control API over Electron IPC: three `ipcMain.handle` channels, each checking the sender before
 * anything else. Every reply is an Envelope; no handler throws, so the renderer never sees Electron's
 * "Error invoking remote method" and main keeps serving whatever a caller sends.
 */
import { z } from 'zod';
import type { EventName } from '../../shared/api';
import { MAX_REQUEST_BYTES, isEventName, topicsSchema } from '../../shared/api';
import type { ApiErrorShape, Envelope } from '../../shared/errors';
import { fail, ok } from '../../shared/errors';
import { zodErrorToApiError } from '../../shared/validation';
import type { EventHub } from '../api/event-hub';
import type { Router } from '../api/router';
import { CALL_CHANNEL, SUBSCRIBE_CHANNEL, UNSUBSCRIBE_CHANNEL } from '../../shared/ipc-channels';
import type { SenderEventLike, SenderLike, SenderPolicy } from './sender';
import { senderRejection } from './sender';
import type { EventTargetContents } from './window-events';
import { WindowSubscriptions } from './window-events';

export type IpcContents = SenderLike & EventTargetContents;
export type IpcInvokeEvent = SenderEventLike<IpcContents>;

/** The parts of Electron's ipcMain this module uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEvent, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface IpcBridgeOptions extends SenderPolicy {
  ipcMain: IpcMainLike;
  router: Router;
  events: EventHub;
  /** Told about refused senders and internal failures; defaults to console.warn. */
  log?: (message: string) => void;
}

export interface IpcBridge {
  /** Removes the handlers and closes every window's subscription. */
  dispose(): void;
}

export function registerIpc(options: IpcBridgeOptions): IpcBridge {
  const { ipcMain, router, log = (message) => console.warn(`[ipc] ${message}`) } = options;
  const subscriptions = new WindowSubscriptions(options.events);

  /** Runs `body` for a trusted sender only; turns any throw into an `internal` envelope. */
  const guarded =
    (channel: string, body: (event: IpcInvokeEvent, ...args: unknown[]) => Promise<Envelope<unknown>>) =>
    async (event: IpcInvokeEvent, ...args: unknown[]): Promise<Envelope<unknown>> => {
      try {
        const rejection = senderRejection(event, options);
        if (rejection !== null) {
          log(`${channel} refused: ${rejection}`);
          return fail('forbidden', `${channel} refused: ${rejection}`);
        }
        return await body(event, ...args);
      } catch (error) {
        log(`${channel} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return fail('internal', `${channel} failed`);
      }
    };

  ipcMain.handle(
    CALL_CHANNEL,
    guarded(CALL_CHANNEL, async (_event, command, input) => {
      const tooBig = checkSize(input);
      if (tooBig) return { ok: false, error: tooBig };
      return router.dispatch(command, input, { transport: 'ipc' });
    }),
  );

  ipcMain.handle(
    SUBSCRIBE_CHANNEL,
    guarded(SUBSCRIBE_CHANNEL, async (event, topics) => {
      const parsed = parseTopics(topics);
      if (!parsed.ok) return { ok: false, error: parsed.error };
      const subscription = subscriptions.of(event.sender);
      subscription.add(parsed.topics);
      return ok({ topics: subscription.list() });
    }),
  );

  ipcMain.handle(
    UNSUBSCRIBE_CHANNEL,
    guarded(UNSUBSCRIBE_CHANNEL, async (event, topics) => {
      const parsed = parseTopics(topics);
      if (!parsed.ok) return { ok: false, error: parsed.error };
      const subscription = subscriptions.find(event.sender);
      subscription?.remove(parsed.topics);
      return ok({ topics: subscription?.list() ?? [] });
    }),
  );

  return {
    dispose() {
      for (const channel of [CALL_CHANNEL, SUBSCRIBE_CHANNEL, UNSUBSCRIBE_CHANNEL])
        ipcMain.removeHandler(channel);
      subscriptions.closeAll();
    },
  };
}

/** The WebSocket transport's cap, measured on the JSON this input would be on the wire. */
function checkSize(input: unknown): ApiErrorShape | null {
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch {
    // Structured clone carries what JSON cannot (cycles, BigInt); no command takes such input.
    return { code: 'bad_request', message: 'input must be plain JSON data' };
  }
  if (json !== undefined && Buffer.byteLength(json) > MAX_REQUEST_BYTES) {
    return { code: 'payload_too_large', message: `input exceeds ${MAX_REQUEST_BYTES} bytes` };
  }
  return null;
}

const topicsInput = z.object({ topics: topicsSchema });

type ParsedTopics = { ok: true; topics: EventName[] } | { ok: false; error: ApiErrorShape };

function parseTopics(topics: unknown): ParsedTopics {
  if (Array.isArray(topics)) {
    const at = topics.findIndex((t) => typeof t === 'string' && !isEventName(t));
    if (at >= 0) {
      const name = JSON.stringify(String(topics[at]).slice(0, 128));
      return {
        ok: false,
        error: {
          code: 'unknown_event',
          message: `topics.${at}: ${name} is not a known event`,
          field: `topics.${at}`,
        },
      };
    }
  }
  // Wrapped in an object so a failure names its field from the root ("topics.0", not "0").
  const parsed = topicsInput.safeParse({ topics });
  if (!parsed.success) return { ok: false, error: zodErrorToApiError(parsed.error) };
  return { ok: true, topics: parsed.data.topics as EventName[] };
}
