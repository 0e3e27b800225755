/**
 * The market-data bus as children use it: NATS-style subjects (`md.<venue>.<symbol>.<type>`, tokens
 * separated by `.`, `*` matches one token, `>` the rest), the same API whether the embedded bus or a
 * real NATS server carries the messages.
 */

export interface BusMessage {
  subject: string;
  data: unknown;
  /** When the publisher published it, epoch ms. */
  at: number;
}

/** Messages that a subscriber did not get, said out loud instead of lost silently. */
export interface BusGap {
  /** Which publisher (embedded) or connection (NATS) the gap is about. */
  source: string;
  reason: 'disconnected' | 'dropped';
  /** For `dropped`: how many messages this subscriber lost to backpressure. */
  dropped?: number;
  from: number; // epoch ms
  to: number; // epoch ms
}

export interface SubscribeOptions {
  onGap?: (gap: BusGap) => void;
}

export interface BusSubscription {
  readonly pattern: string;
  unsubscribe(): void;
}

export interface SubscriberStats {
  id: string;
  patterns: string[];
  queueDepth: number;
  capacity: number;
  delivered: number;
  dropped: number;
  /** Rate-limited 70 % warnings raised for this subscriber. */
  warnings: number;
}

export interface BusMetrics {
  published: number;
  delivered: number;
  dropped: number;
  /** Malformed frames, invalid subjects and oversized messages refused (and counted). */
  rejected: number;
  /** As seen by this process's publishing side: one entry per connected subscriber. */
  subscribers: SubscriberStats[];
}

export class BusError extends Error {
  constructor(
    readonly code: 'invalid_subject' | 'too_large' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

export interface Bus {
  /** Never blocks on a slow consumer. Throws BusError for an invalid subject or an oversized message. */
  publish(subject: string, data: unknown): void;
  subscribe(
    pattern: string,
    handler: (message: BusMessage) => void,
    options?: SubscribeOptions,
  ): BusSubscription;
  /** Resolves when everything published so far has left this process. */
  flush(): Promise<void>;
  metrics(): BusMetrics;
  close(): Promise<void>;
}

/** The largest message either backend accepts (NATS' default max_payload is 1 MiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
