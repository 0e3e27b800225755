/**
 * Requests to protocol children: a reply settles the request of its id (result or error with its code
 * and field), from the service asked only; no reply in time, no channel, or the run ending first is
 * an `unavailable` error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ParentMessage } from '../../src/shared/child-protocol';
import { ApiError } from '../../src/shared/errors';
import { ChildRequestError, ChildRequests } from '../../src/main/supervisor/child-requests';

afterEach(() => vi.useRealTimers());

function channel() {
  const sent: ParentMessage[] = [];
  return { sent, notify: (m: ParentMessage) => (sent.push(m), true) };
}

describe('ChildRequests', () => {
  it('settles each request with the reply of its id, from its own service', async () => {
    const r = new ChildRequests();
    const c = channel();
    const a = r.send('opt', c.notify, 'start', { runId: 1 }, 1000);
    const b = r.send('opt', c.notify, 'cancel', { runId: 1 }, 1000);
    expect(c.sent).toEqual([
      { type: 'request', id: 1, method: 'start', params: { runId: 1 } },
      { type: 'request', id: 2, method: 'cancel', params: { runId: 1 } },
    ]);
    r.reply('other', { type: 'reply', id: 2, result: 'not yours' });
    r.reply('opt', { type: 'reply', id: 2, error: { message: 'no such run', code: 'gone', field: 'runId' } });
    r.reply('opt', { type: 'reply', id: 1, result: { total: 9 } });
    await expect(a).resolves.toEqual({ total: 9 });
    const error = await b.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildRequestError);
    expect(error).toMatchObject({ message: 'no such run', code: 'gone', field: 'runId' });
  });

  it('fails as unavailable without a channel, after its timeout, or when the run ends', async () => {
    vi.useFakeTimers();
    const r = new ChildRequests();
    await expect(r.send('opt', () => false, 'start', {}, 1000)).rejects.toThrow('opt is not running');
    const late = r.send('opt', channel().notify, 'start', {}, 1000);
    const check = expect(late).rejects.toThrow('did not answer start within 1000 ms');
    vi.advanceTimersByTime(1000);
    await check;
    const ended = r.send('opt', channel().notify, 'start', {}, 1000);
    r.runEnded('opt', 'went backoff (killed by SIGKILL)');
    const error = await ended.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'unavailable',
      message: 'opt went backoff (killed by SIGKILL) before answering start',
    });
  });
});
