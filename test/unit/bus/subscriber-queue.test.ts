import { describe, expect, it, vi } from 'vitest';
import { DropGap, SubscriberQueue, type QueuedMessage } from '../../../src/services/bus/subscriber-queue';

const msg = (i: number): QueuedMessage => ({ subject: 's', at: i, data: i, dataJson: String(i), bytes: 1 });

describe('SubscriberQueue', () => {
  it('warns at 70 % (rate-limited), drops from 95 %, and queues one gap with the exact count', () => {
    const onWarning = vi.fn();
    const q = new SubscriberQueue('sub', 100, onWarning);
    let accepted = 0;
    for (let i = 0; i < 300; i++) if (q.offer(msg(i), 1_000 + i)) accepted += 1;
    expect(accepted).toBe(95);
    expect(q.dropped).toBe(205);
    expect(onWarning).toHaveBeenCalledTimes(1);
    expect(onWarning).toHaveBeenCalledWith({ subscriber: 'sub', depth: 70, capacity: 100 });
    // Still dropping until it is back under the warning level, then the gap comes in stream order.
    const seen: (number | DropGap)[] = [];
    for (let e = q.shift(); e; e = q.shift()) seen.push(e instanceof DropGap ? e : (e.data as number));
    const gap = seen.at(-1) as DropGap;
    expect(seen.slice(0, -1)).toEqual([...Array(95).keys()]);
    expect(gap).toEqual(new DropGap(205, 1_095, 1_299));
    // A second warning only after 10 s.
    for (let i = 0; i < 80; i++) q.offer(msg(i), 5_000);
    expect(onWarning).toHaveBeenCalledTimes(1);
    q.offer(msg(0), 11_069);
    expect(onWarning).toHaveBeenCalledTimes(1);
    q.offer(msg(0), 11_070);
    expect(onWarning).toHaveBeenCalledTimes(2);
    expect(q.warnings).toBe(2);
  });

  it('a gap recorded before a new message precedes it', () => {
    const q = new SubscriberQueue('sub', 10, undefined);
    for (let i = 0; i < 12; i++) q.offer(msg(i), i);
    // Drain to below the warning level (7): the gap closes on the way.
    const out: unknown[] = [];
    while (q.depth > 0) {
      const e = q.shift()!;
      out.push(e instanceof DropGap ? `gap:${e.dropped}` : e.data);
    }
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 'gap:3']);
  });
});
