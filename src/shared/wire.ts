/** The headless WebSocket protocol: JSON frames, one request or reply per frame. */
import { z } from 'zod';
import type { EventName } from './api';
import type { ApiErrorShape } from './errors';

export const WIRE_PROTOCOL = 1;

const requestId = z.union([z.number().int().nonnegative(), z.string().min(1).max(64)]);

export const clientFrameSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('call'), id: requestId, command: z.string().max(128), input: z.unknown() })
    .strict(),
  z
    .object({ type: z.literal('subscribe'), id: requestId, topics: z.array(z.string().max(128)).max(64) })
    .strict(),
  z
    .object({ type: z.literal('unsubscribe'), id: requestId, topics: z.array(z.string().max(128)).max(64) })
    .strict(),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type RequestId = z.infer<typeof requestId>;

export type ServerFrame =
  | { type: 'hello'; protocol: number; server: string }
  | { type: 'reply'; id: RequestId | null; ok: true; result: unknown }
  | { type: 'reply'; id: RequestId | null; ok: false; error: ApiErrorShape }
  | { type: 'event'; event: EventName; payload: unknown };

/** Path of the WebSocket endpoint on the headless server. */
export const WS_PATH = '/api/ws';
/** The token travels in this query parameter (page URL and WebSocket URL alike). */
export const TOKEN_PARAM = 'token';
