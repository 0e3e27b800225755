/** Reconnect backoff, the control-message token bucket and the REST poller, on fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, fullJitterDelay, parseRetryAfter } from '../../src/services/collector/net/backoff';
import { Poller } from '../../src/services/collector/net/poller';
import { TokenBucket, controlMessageRates } from '../../src/services/collector/net/rate-limiter';
import { RateLimitedError } from '../../src/services/collector/net/rest-client';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-11-22T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = new Backoff({ baseMs: 250, capMs: 30_000, random: () => 0.999999 });
    const ceilings = Array.from({ length: 10 }, () => top.next());
    expect(ceilings).toEqual([249, 499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999]);
    const bottom = new Backoff({ random: () => 0 });
    expect([bottom.next(), bottom.next(), bottom.next()]).toEqual([0, 0, 0]);
    const mid = new Backoff({ random: () => 0.5 });
    expect([mid.next(), mid.next(), mid.next()]).toEqual([125, 250, 500]);
  });

  it('spreads delays uniformly below the ceiling', () => {
    const samples = Array.from({ length: 2000 }, () => fullJitterDelay(3, 250, 30_000, Math.random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(2000);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(850);
    expect(mean).toBeLessThan(1150);
    expect(fullJitterDelay(10_000, 250, 30_000, () => 0.5)).toBe(15_000);
  });

  it('starts again from the base once a connection has been healthy long enough', () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000, resetAfterMs: 60_000, random: () => 0.999999 });
    b.next();
    b.next();
    b.next();
    expect(b.attempts).toBe(3);
    // Up for 10 s only: a flapping connection keeps backing off.
    b.succeeded();
    vi.advanceTimersByTime(10_000);
    expect(b.next()).toBe(799);
    // Up for a minute: healthy, the next failure starts from the base.
    b.succeeded();
    vi.advanceTimersByTime(60_000);
    expect(b.next()).toBe(99);
    expect(b.attempts).toBe(1);
    b.reset();
    expect(b.attempts).toBe(0);
  });

  it('rejects nonsense settings', () => {
    expect(() => new Backoff({ baseMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ baseMs: 1000, capMs: 10 })).toThrow(RangeError);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.now();
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter(['2'], now)).toBe(2000);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });
});

describe('token bucket', () => {
  it('keeps control messages at the rate, FIFO, with a burst of 1 by default', async () => {
    const bucket = new TokenBucket({ ratePerSec: controlMessageRates['binance-spot'] });
    const sentAt: [number, number][] = [];
    const t0 = Date.now();
    for (let i = 0; i < 12; i++) bucket.schedule(() => sentAt.push([i, Date.now() - t0]));
    // The first goes out synchronously; the rest wait.
    expect(sentAt).toEqual([[0, 0]]);
    expect(bucket.pending).toBe(11);
    await vi.advanceTimersByTimeAsync(3000);
    expect(sentAt.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(sentAt.map(([, t]) => t)).toEqual([
      0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750,
    ]);
    // Never more than 4 in any 1 s window.
    for (const [, t] of sentAt)
      expect(sentAt.filter(([, u]) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(4);
  });

  it('allows a burst when asked, then the rate', async () => {
    const bucket = new TokenBucket({ ratePerSec: 8, burst: 3 });
    const sentAt: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) bucket.schedule(() => sentAt.push(Date.now() - t0));
    expect(sentAt).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sentAt).toEqual([0, 0, 0, 125, 250, 375]);
  });

  it('refills while idle, but never beyond the burst', async () => {
    const bucket = new TokenBucket({ ratePerSec: 2 });
    const ran: number[] = [];
    bucket.schedule(() => ran.push(1));
    await vi.advanceTimersByTimeAsync(10_000);
    bucket.schedule(() => ran.push(2));
    bucket.schedule(() => ran.push(3));
    expect(ran).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(499);
    expect(ran).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual([1, 2, 3]);
  });

  it('clear() drops everything waiting', async () => {
    const bucket = new TokenBucket({ ratePerSec: 4 });
    const ran: number[] = [];
    for (let i = 0; i < 5; i++) bucket.schedule(() => ran.push(i));
    expect(bucket.clear()).toBe(4);
    await vi.advanceTimersByTimeAsync(5000);
    expect(ran).toEqual([0]);
    expect(bucket.stats()).toMatchObject({ ran: 1, dropped: 4, pending: 0, maxPending: 4 });
    // Still usable afterwards.
    bucket.schedule(() => ran.push(9));
    expect(ran).toEqual([0, 9]);
  });

  it('keeps going when a send throws, and runs re-entrant schedules in order', async () => {
    const errors: unknown[] = [];
    const bucket = new TokenBucket({ ratePerSec: 10, onError: (e) => errors.push(e) });
    const ran: string[] = [];
    bucket.schedule(() => ran.push('x')); // takes the only token: the rest wait in the queue
    bucket.schedule(() => {
      ran.push('a');
      bucket.schedule(() => ran.push('c'));
    });
    bucket.schedule(() => {
      throw new Error('socket gone');
    });
    bucket.schedule(() => ran.push('b'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran).toEqual(['x', 'a', 'b', 'c']);
    expect(errors).toHaveLength(1);
  });

  it('rejects a zero rate', () => {
    expect(() => new TokenBucket({ ratePerSec: 0 })).toThrow(RangeError);
  });
});

describe('poller', () => {
  it('runs at once, then intervalMs after each run ends, never overlapping', async () => {
    const starts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const t0 = Date.now();
    const poller = new Poller({
      intervalMs: 1000,
      run: async () => {
        starts.push(Date.now() - t0);
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 1500)); // slower than the interval
        active--;
      },
      onError: () => {},
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(7000);
    expect(starts).toEqual([0, 2500, 5000]);
    expect(maxActive).toBe(1);
    await poller.stop();
  });

  it('honours an initial delay and reports errors without stopping', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const poller = new Poller({
      intervalMs: 500,
      initialDelayMs: 2000,
      run: async () => {
        n++;
        if (n === 1) throw new Error('boom');
      },
      onError: (e) => errors.push(e),
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(1999);
    expect(n).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(n).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
    expect(poller.stats()).toMatchObject({ runs: 2, errors: 1 });
    await poller.stop();
  });

  it('pauses until retryAt after a RateLimitedError', async () => {
    const t0 = Date.now();
    const starts: number[] = [];
    const poller = new Poller({
      intervalMs: 1000,
      run: async () => {
        starts.push(Date.now() - t0);
        if (starts.length === 1) throw new RateLimitedError(429, Date.now() + 10_000, 'http://x/y', 'test');
      },
      onError: () => {},
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(starts).toEqual([0]);
    expect(poller.stats().rateLimited).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([0, 10_000]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0, 10_000, 11_000]);
    await poller.stop();
  });

  it('stop() waits for the run in progress and plans no more', async () => {
    let finished = false;
    let runs = 0;
    const poller = new Poller({
      intervalMs: 100,
      run: async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 300));
        finished = true;
      },
      onError: () => {},
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(10);
    const stopped = poller.stop();
    await vi.advanceTimersByTimeAsync(300);
    await stopped;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(1);
    expect(poller.stats()).toMatchObject({ running: false, nextRunAt: null });
  });
});
