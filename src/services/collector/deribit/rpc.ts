/**
 * JSON-RPC 2.0 calls over a StreamConnection: request ids, pending calls with their timeouts, each
 * bound to the socket (generation) it went out on, and the two credit budgets Deribit counts
 * separately (subscriptions, everything else), so we never spend credits faster than they refill: an
 * exhausted pool costs the whole session (10028, exchanges.md B4).
 */
import { TokenBucket } from '../net/rate-limiter';
import type { RpcErrorBody } from './parse';

/** The exchange answered with an error. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(method: string, body: RpcErrorBody) {
    const reason =
      typeof body.data === 'object' && body.data !== null && 'reason' in body.data
        ? `: ${String((body.data as { reason: unknown }).reason)}`
        : '';
    super(`${method}: error ${body.code} ${body.message}${reason}`);
    this.code = body.code;
    this.data = body.data;
  }
}

/** No answer: the socket closed, was not open, or the call timed out. Worth retrying later. */
export class RpcUnavailable extends Error {}

/** Which budget a call spends: `none` for the answers a heartbeat demands at once. */
export type Budget = 'request' | 'subscribe' | 'none';

export interface RpcClientOptions {
  /** Sends on the socket of `generation`; false when it is not open. */
  send(text: string, generation: number): boolean;
  /** A call with no answer for this long fails (RpcUnavailable). */
  timeoutMs: number;
  /** Our budget for non-subscription requests (Deribit: ~20/s, burst 100). Default 10/s, burst 20. */
  request?: { ratePerSec: number; burst: number };
  /** Our budget for (un)subscribe requests (Deribit: ~3.3/s, burst 10). Default 3/s, burst 8. */
  subscribe?: { ratePerSec: number; burst: number };
  onError?: (err: unknown) => void;
}

interface Pending {
  method: string;
  generation: number;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly buckets: Record<'request' | 'subscribe', TokenBucket>;
  /** Calls still waiting for their budget: failed at close, so that no caller waits forever. */
  private readonly waiting = new Set<(error: Error) => void>();
  private closed = false;

  constructor(private readonly options: RpcClientOptions) {
    const request = options.request ?? { ratePerSec: 10, burst: 20 };
    const subscribe = options.subscribe ?? { ratePerSec: 3, burst: 8 };
    this.buckets = {
      request: new TokenBucket({ ...request, onError: options.onError }),
      subscribe: new TokenBucket({ ...subscribe, onError: options.onError }),
    };
  }

  /** Calls waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Calls waiting for their budget. */
  get queued(): number {
    return this.buckets.request.pending + this.buckets.subscribe.pending;
  }

  /**
   * Sends `method` on the socket of `generation` once the budget allows, and resolves with its result.
   * Rejects with RpcError (the exchange refused) or RpcUnavailable (no answer).
   */
  call(
    method: string,
    params: Record<string, unknown>,
    generation: number,
    budget: Budget = 'request',
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const go = (): void => {
        this.waiting.delete(reject);
        if (this.closed) {
          reject(new RpcUnavailable(`${method}: the client is closed`));
          return;
        }
        const id = this.nextId++;
        const timer = setTimeout(() => {
          if (!this.pending.delete(id)) return;
          reject(new RpcUnavailable(`${method}: no answer within ${this.options.timeoutMs} ms`));
        }, this.options.timeoutMs);
        this.pending.set(id, { method, generation, resolve, reject, timer });
        if (!this.options.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), generation)) {
          this.fail(id, new RpcUnavailable(`${method}: connection ${generation} is not open`));
        }
      };
      if (budget === 'none') {
        go();
        return;
      }
      this.waiting.add(reject);
      this.buckets[budget].schedule(go);
    });
  }

  /**
   * A response arrived: settles the call with that id. Returns the method it answered, or undefined
   * when no call waits for it (timed out, or not ours).
   */
  settle(id: number | string | null, result: unknown, error?: RpcErrorBody): string | undefined {
    if (typeof id !== 'number') return undefined;
    const call = this.pending.get(id);
    if (!call) return undefined;
    this.pending.delete(id);
    clearTimeout(call.timer);
    if (error) call.reject(new RpcError(call.method, error));
    else call.resolve(result);
    return call.method;
  }

  /** The sockets up to `generation` are gone: their calls fail now rather than at their timeout. */
  dropThrough(generation: number, reason: string): void {
    for (const [id, call] of this.pending) {
      if (call.generation <= generation) this.fail(id, new RpcUnavailable(`${call.method}: ${reason}`));
    }
  }

  /** Fails every call, queued or in flight. */
  close(): void {
    this.closed = true;
    this.buckets.request.clear();
    this.buckets.subscribe.clear();
    for (const reject of this.waiting) reject(new RpcUnavailable('the client is closed'));
    this.waiting.clear();
    for (const id of [...this.pending.keys()]) this.fail(id, new RpcUnavailable('the client is closed'));
  }

  private fail(id: number, error: Error): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    call.reject(error);
  }
}
