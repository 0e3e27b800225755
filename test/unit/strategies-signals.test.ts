/**
 * Each shipped strategy on a tiny hand-built series: the exact candles where it enters and exits, and
 * why. The numbers are worked out in the comments; prices are whole or short decimals so the averages
 * are exact.
 */
import { describe, expect, it } from 'vitest';
import { strategies, type StrategyCandle, type StrategyDefinition } from '../../src/services/strategies';

const T0 = Date.UTC(2026, 2, 3, 9, 0, 0);
const MIN = 60_000;

/** Candles from closes; open = previous close; high/low = max/min of open and close unless given. */
function series(closes: readonly number[], extremes: Record<number, { high?: number; low?: number }> = {}) {
  return closes.map((close, i): StrategyCandle => {
    const open = i === 0 ? close : closes[i - 1]!;
    return {
      start: T0 + i * MIN,
      open,
      close,
      high: extremes[i]?.high ?? Math.max(open, close),
      low: extremes[i]?.low ?? Math.min(open, close),
      volume: 1,
      trades: 1,
    };
  });
}

/** [candle index, target] of every decision, and the reasons. */
function run<P extends Record<string, number>>(
  def: StrategyDefinition<P>,
  params: Partial<P>,
  candles: StrategyCandle[],
) {
  const s = def.create(def.schema.parse(params));
  const decisions: [number, number][] = [];
  const reasons: string[] = [];
  candles.forEach((c, i) => {
    const d = s.onCandle(c);
    if (d) {
      decisions.push([i, d.target]);
      reasons.push(d.reason);
    }
  });
  return { decisions, reasons };
}

describe('ma-crossover', () => {
  const def = strategies['ma-crossover'];

  it('trades on crosses only, from the candle after its warmup', () => {
    // fast = SMA(2), slow = SMA(5) of closes:
    //  i  close  fast   slow   regime
    //  4  10     10     10     equal: not known yet (no signal)
    //  5   9      9.5    9.8   below: the first regime seen, not a cross
    //  8   8      7.5    8.4   below
    //  9  10      9      8.4   above  → cross: long
    // 12   9     10     10     equal: keeps "above"
    // 13   7      8      9.8   below  → cross: short
    const closes = [10, 10, 10, 10, 10, 9, 8, 7, 8, 10, 12, 11, 9, 7];
    const { decisions, reasons } = run(def, { fast: 2, slow: 5 }, series(closes));
    expect(decisions).toEqual([
      [9, 1],
      [13, -1],
    ]);
    expect(reasons).toEqual(['SMA(2) 9 crossed above SMA(5) 8.4', 'SMA(2) 8 crossed below SMA(5) 9.8']);
  });

  it('says nothing during its warmup of `slow` candles, even on a move', () => {
    expect(def.warmup(def.schema.parse({ fast: 2, slow: 5 }))).toBe(5);
    // Falling then rising inside the first 5 candles: the slow average does not exist yet.
    const { decisions } = run(def, { fast: 2, slow: 5 }, series([10, 5, 20, 30, 40, 50, 60]));
    expect(decisions).toEqual([]);
  });
});

describe('bollinger-reversion', () => {
  const def = strategies['bollinger-reversion'];

  it('goes long below the lower band, flat at the mean, short above the upper band', () => {
    // period 5, entryZ 1.5, exitZ 0; z = (close − mean) / population sd of the last 5 closes:
    //  i  window              mean  sd      z
    //  4  10 11 10 11 10      10.4  0.49   −0.82
    //  5  11 10 11 10  7       9.8  1.47   −1.91  ≤ −1.5 → long
    //  6  10 11 10  7  8       9.2  1.47   −0.82         (hold)
    //  7  11 10  7  8 10       9.2  1.47   +0.54  ≥ 0    → flat
    //  8  10  7  8 10 14       9.8  2.4    +1.75  ≥ 1.5  → short
    //  9   7  8 10 14  9       9.6  2.42   −0.25  ≤ 0    → flat
    const closes = [10, 11, 10, 11, 10, 7, 8, 10, 14, 9];
    const { decisions, reasons } = run(def, { period: 5, entryZ: 1.5, exitZ: 0 }, series(closes));
    expect(decisions).toEqual([
      [5, 1],
      [7, 0],
      [8, -1],
      [9, 0],
    ]);
    expect(reasons[0]).toBe('close 7, mean 9.8, z -1.90516: at or below the lower band 7.59546');
    expect(reasons[1]).toBe('close 10, mean 9.2, z 0.544331: back within 0σ of the mean');
  });

  it('exits early with a wider exit band, and flips on a close beyond the other band', () => {
    // exitZ 0.9: at i 6, z −0.82 ≥ −0.9 → flat one candle earlier. Then i 7 to 8 as above.
    const closes = [10, 11, 10, 11, 10, 7, 8, 10, 14, 9];
    expect(run(def, { period: 5, entryZ: 1.5, exitZ: 0.9 }, series(closes)).decisions).toEqual([
      [5, 1],
      [6, 0],
      [8, -1],
      [9, 0],
    ]);
    // Long from i 5; at i 6 the close jumps to 14: window 10 11 10 7 14, mean 10.4, sd 2.24, z 1.61 → short.
    expect(
      run(def, { period: 5, entryZ: 1.5, exitZ: 0 }, series([10, 11, 10, 11, 10, 7, 14])).decisions,
    ).toEqual([
      [5, 1],
      [6, -1],
    ]);
  });

  it('decides nothing on a flat window (no deviation) or during its warmup of period − 1 candles', () => {
    expect(def.warmup(def.schema.parse({ period: 5 }))).toBe(4);
    expect(run(def, { period: 5 }, series([10, 10, 10, 10, 10, 10, 10])).decisions).toEqual([]);
    expect(run(def, { period: 5, entryZ: 1 }, series([10, 20, 30, 40])).decisions).toEqual([]);
  });
});

describe('breakout', () => {
  const def = strategies.breakout;

  it('enters on a close beyond the previous highs/lows, exits on the shorter channel', () => {
    // lookback 5, exitLookback 2; the channels are the previous candles' highs and lows (open = the
    // previous close, so a candle's low is min(previous close, close); candle 1 has a wick to 12.2).
    //  i  close  previous 5 highs → max / lows → min          previous 2 lows → min / highs → max
    //  5  12     10 12.2 11 11 11 → 12.2: no breakout
    //  6  13     12.2 11 11 11 12 → 12.2: above → long
    //  7  12.5                                                lows 10 12 → 10: hold
    //  8  11.9                                                lows 12 12.5 → 12: below → flat
    // 10   9     lows 10 12 12.5 11.9 11.9 → 10: below → short
    // 12   9                                                  highs 12 9 → 12: hold
    // 13  10                                                  highs 9 9 → 9: above → flat
    const closes = [10, 11, 10, 11, 10, 12, 13, 12.5, 11.9, 12, 9, 8, 9, 10];
    const candles = series(closes, { 1: { high: 12.2 } });
    const { decisions, reasons } = run(def, { lookback: 5, exitLookback: 2 }, candles);
    expect(decisions).toEqual([
      [6, 1],
      [8, 0],
      [10, -1],
      [13, 0],
    ]);
    expect(reasons).toEqual([
      'close 13 broke above the 5-candle high 12.2',
      'close 11.9 fell below the 2-candle low 12',
      'close 9 broke below the 5-candle low 10',
      'close 10 rose above the 2-candle high 9',
    ]);
  });

  it('flips on a breakout the other way, and waits `lookback` candles first', () => {
    expect(def.warmup(def.schema.parse({ lookback: 5, exitLookback: 2 }))).toBe(5);
    // Long at i 5 (12 > 11); at i 6 the close 5 is below the previous 5 lows (min 10) → short at once.
    const closes = [10, 11, 10, 11, 10, 12, 5];
    expect(run(def, { lookback: 5, exitLookback: 2 }, series(closes)).decisions).toEqual([
      [5, 1],
      [6, -1],
    ]);
    // Nothing within the first 5 candles, however much they move.
    expect(run(def, { lookback: 5, exitLookback: 2 }, series([10, 50, 1, 80, 2])).decisions).toEqual([]);
  });
});

describe('every strategy', () => {
  it('is deterministic and incremental: a fresh instance fed the same candles decides the same', () => {
    let p = 100;
    let seed = 7;
    const closes = Array.from({ length: 3000 }, () => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      p *= 1 + (seed / 0x7fffffff - 0.5) * 0.02;
      return p;
    });
    const candles = series(closes);
    for (const def of Object.values(strategies) as StrategyDefinition[]) {
      const a = run(def, {}, candles);
      expect(a.decisions.length, def.id).toBeGreaterThan(5);
      expect(run(def, {}, candles), def.id).toEqual(a);
      // No look-ahead: the decisions on a prefix are the full run's decisions up to there.
      expect(run(def, {}, candles.slice(0, 1500)).decisions, def.id).toEqual(
        a.decisions.filter(([i]) => i < 1500),
      );
    }
  });
});
