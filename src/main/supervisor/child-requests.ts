/**
 * Requests to protocol children and their replies (docs/child-protocol.md, `request` / `reply`): each
 * request gets an id, and its promise settles with the reply of that id, or fails when the child does
 * not answer in time or its run ends first (a reply can only come from the run that was asked).
 */
import type { ChildReply, ParentMessage } from '../../shared/child-protocol';
import { ApiError } from '../../shared/errors';

/** A child's error reply, with the code and field it gave. */
export class ChildRequestError extends Error {
  override readonly name = 'ChildRequestError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

interface Pending {
  service: string;
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class ChildRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /**
   * Sends `method` to `service` through `notify` (the runner's send; false: no channel). Rejects with
   * ApiError('unavailable') when it cannot be sent, the run ends, or no reply comes in `timeoutMs`,
   * and with ChildRequestError when the child answers with an error.
   */
  send(
    service: string,
    notify: (message: ParentMessage) => boolean,
    method: string,
    params: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiError('unavailable', `${service} did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { service, method, resolve, reject, timer });
      if (!notify({ type: 'request', id, method, params })) {
        this.settle(id);
        reject(new ApiError('unavailable', `${service} is not running: ${method} could not be sent`));
      }
    });
  }

  /** A reply from `service`: settles its request (a reply to a request we no longer wait for is dropped). */
  reply(service: string, reply: ChildReply): void {
    const p = this.pending.get(reply.id);
    if (!p || p.service !== service) return;
    this.settle(reply.id);
    if (reply.error)
      p.reject(new ChildRequestError(reply.error.message, reply.error.code, reply.error.field));
    else p.resolve(reply.result);
  }

  /** The service's run ended (exit, stop, restart): nothing it was asked will be answered now. */
  runEnded(service: string, why: string): void {
    for (const [id, p] of [...this.pending]) {
      if (p.service !== service) continue;
      this.settle(id);
      p.reject(new ApiError('unavailable', `${service} ${why} before answering ${p.method}`));
    }
  }

  /** Fails every request in flight (the supervisor is closing). */
  close(): void {
    for (const service of new Set([...this.pending.values()].map((p) => p.service))) {
      this.runEnded(service, 'was stopped as Vigil shut down');
    }
  }

  private settle(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
  }
}
