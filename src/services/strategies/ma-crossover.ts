/**
 * Moving average crossover: long when the fast simple moving average of closes crosses above the slow
 * one, short when it crosses below. Trades on crosses only: the regime seen when the averages first
 * exist is where the strategy starts, not a signal (so a run that starts mid-trend waits for a cross).
 *
 * Per candle O(1) (running sums, re-added once per window turn). Warmup: `slow` candles (the first
 * full slow average sets the regime; the next candle can cross).
 */
import { RollingWindow } from './rolling';
import { defineStrategy, fmt } from './strategy';

export const maCrossover = defineStrategy({
  id: 'ma-crossover',
  version: 1,
  label: 'Moving average crossover',
  description:
    'Long when the fast moving average of closes crosses above the slow one, short when it crosses below.',
  params: [
    {
      name: 'fast',
      label: 'Fast period',
      description: 'Candles in the fast simple moving average.',
      kind: 'int',
      min: 2,
      max: 100,
      step: 2,
      default: 10,
    },
    {
      name: 'slow',
      label: 'Slow period',
      description: 'Candles in the slow simple moving average; more than the fast period.',
      kind: 'int',
      min: 5,
      max: 400,
      step: 5,
      default: 30,
    },
  ],
  rules(p, fail) {
    if (p.fast >= p.slow) fail('slow', `must be more than the fast period (${p.fast})`);
  },
  warmup: (p) => p.slow,
  create(p) {
    const fast = new RollingWindow(p.fast);
    const slow = new RollingWindow(p.slow);
    // 1: fast above slow, −1: below, 0: not known yet. Equal averages keep the regime.
    let regime = 0;
    return {
      onCandle(c) {
        fast.push(c.close);
        slow.push(c.close);
        if (!slow.full) return null;
        const f = fast.runningMean();
        const s = slow.runningMean();
        const now = f > s ? 1 : f < s ? -1 : regime;
        if (now === regime) return null;
        const was = regime;
        regime = now;
        if (was === 0) return null;
        return {
          target: now,
          reason: `SMA(${p.fast}) ${fmt(f)} crossed ${now > 0 ? 'above' : 'below'} SMA(${p.slow}) ${fmt(s)}`,
        };
      },
    };
  },
});
