/**
 * The subscriptions of one OKX socket (reference/exchanges.md B3): subscribe/unsubscribe requests with
 * ids, split so that no request's `args` exceed 64 KB, the acknowledgements per argument (so the
 * collector knows when everything is subscribed), the arguments a request error refused (to retry
 * them), and the budget of 480 subscribe/unsubscribe requests per connection per hour, which a new
 * socket starts afresh.
 */
import type { SendFn } from '../net/stream-connection';
import { argKey, type OkxArg } from './parse';

/** OKX's limit on a request's `args`, less room for the rest of the request. */
export const MAX_ARGS_BYTES = 64 * 1024 - 512;
export const OPS_PER_HOUR = 480;
const HOUR = 3_600_000;

export type SubscriptionOp = 'subscribe' | 'unsubscribe';

/** Splits `args` into groups whose JSON stays within `maxBytes` (an argument too large alone goes alone). */
export function chunkArgs(args: readonly OkxArg[], maxBytes = MAX_ARGS_BYTES): OkxArg[][] {
  const out: OkxArg[][] = [];
  let chunk: OkxArg[] = [];
  let size = 2; // the brackets
  for (const arg of args) {
    const bytes = Buffer.byteLength(JSON.stringify(arg)) + 1; // and a comma
    if (chunk.length > 0 && size + bytes > maxBytes) {
      out.push(chunk);
      chunk = [];
      size = 2;
    }
    chunk.push(arg);
    size += bytes;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

export class SocketSubscriptions {
  /** Keys (`argKey`) of the arguments subscribed and acknowledged on this socket. */
  readonly acked = new Set<string>();
  private readonly ops: number[] = [];
  private readonly pending = new Map<string, { op: SubscriptionOp; args: OkxArg[] }>();

  constructor(
    readonly generation: number,
    private readonly send: SendFn,
    private readonly nextId: () => string,
    private readonly now: () => number = Date.now,
    private readonly opsPerHour = OPS_PER_HOUR,
  ) {}

  /** Requests left in the hourly budget. */
  opsLeft(): number {
    const t = this.now();
    while (this.ops.length > 0 && this.ops[0]! <= t - HOUR) this.ops.shift();
    return this.opsPerHour - this.ops.length;
  }

  /** Sends the requests for `args` (as many as 64 KB requires); false, sending nothing, over budget. */
  request(op: SubscriptionOp, args: readonly OkxArg[]): boolean {
    const chunks = chunkArgs(args);
    if (chunks.length > this.opsLeft()) return false;
    for (const chunk of chunks) {
      const id = this.nextId();
      this.ops.push(this.now());
      this.pending.set(id, { op, args: chunk });
      if (op === 'unsubscribe') for (const arg of chunk) this.acked.delete(argKey(arg));
      this.send(JSON.stringify({ id, op, args: chunk }));
    }
    return true;
  }

  /** An acknowledgement (one per argument). */
  onAck(op: SubscriptionOp, id: string | undefined, arg: OkxArg): void {
    const key = argKey(arg);
    if (op === 'subscribe') this.acked.add(key);
    else this.acked.delete(key);
    if (id === undefined) return;
    const request = this.pending.get(id);
    if (!request) return;
    request.args = request.args.filter((a) => argKey(a) !== key);
    if (request.args.length === 0) this.pending.delete(id);
  }

  /**
   * An error answering request `id`: the subscribe arguments it refused (every one not acknowledged
   * yet), to retry. An error without a known id refuses nothing we can name.
   */
  onError(id: string | undefined): OkxArg[] {
    if (id === undefined) return [];
    const request = this.pending.get(id);
    if (!request) return [];
    // OKX answers each argument on its own: acknowledged ones left the list already, so an error
    // refuses one of the rest. Not knowing which, all of them are retried (a repeat is harmless).
    this.pending.delete(id);
    return request.op === 'subscribe' ? request.args : [];
  }

  /** True when every one of `keys` is acknowledged. */
  covers(keys: Iterable<string>): boolean {
    for (const key of keys) if (!this.acked.has(key)) return false;
    return true;
  }
}
