/** The trader program's latency percentiles over the last 60 s (tick_p50_ms, decision_p99_ms, ...). */
import { describe, expect, it } from 'vitest';
import { LatencyWindow } from '../../src/services/trader/latency-window';

describe('LatencyWindow', () => {
  it('gives percentiles within 5 % of the true value, over the last 60 s only', () => {
    let now = 1_000_000;
    const w = new LatencyWindow(() => now);
    expect(w.percentiles([50, 99])).toEqual([null, null]);
    // 1..1000 µs·10 → 0.01 ms … 10 ms, spread over 10 seconds.
    for (let i = 1; i <= 1000; i++) {
      w.add(i / 100);
      if (i % 100 === 0) now += 1000;
    }
    const [p50, p99, p100] = w.percentiles([50, 99, 100]) as number[];
    expect(p50).toBeGreaterThanOrEqual(5);
    expect(p50).toBeLessThanOrEqual(5 * 1.05);
    expect(p99).toBeGreaterThanOrEqual(9.9);
    expect(p99).toBeLessThanOrEqual(9.9 * 1.05);
    expect(p100).toBeLessThanOrEqual(10 * 1.05);
    // 55 s later the first 5 s have left the window: only 5.01 … 10 ms remain.
    now += 55_000;
    expect(w.percentiles([0])[0]!).toBeGreaterThanOrEqual(5);
    now += 10_000;
    expect(w.percentiles([50])).toEqual([null]);
    // A slot reused a minute later starts from zero.
    w.add(100);
    expect(w.percentiles([0, 100]).map((x) => Math.round(x!))).toEqual([100, 100]);
    w.add(0);
    expect(w.percentiles([0])[0]!).toBeLessThanOrEqual(0.001);
  });
});
