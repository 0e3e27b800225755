/**
 * Channel breakout (momentum, Donchian/turtle style): long when a close breaks above the highest high
 * of the previous `lookback` candles, short when it breaks below their lowest low; a long is closed when
 * a close falls below the lowest low of the previous `exitLookback` candles (a short: above their
 * highest high). A breakout the other way flips the position. The channels exclude the current candle.
 *
 * Per candle amortised O(1) (monotonic queues). Warmup: `lookback` candles.
 */
import { RollingExtreme } from './rolling';
import { defineStrategy, fmt } from './strategy';

export const breakout = defineStrategy({
  id: 'breakout',
  version: 1,
  label: 'Channel breakout',
  description:
    'Long on a close above the recent high, short on a close below the recent low; out on a shorter channel.',
  params: [
    {
      name: 'lookback',
      label: 'Entry channel',
      description: 'Previous candles whose highest high / lowest low a close must break to enter.',
      kind: 'int',
      min: 5,
      max: 500,
      step: 5,
      default: 20,
    },
    {
      name: 'exitLookback',
      label: 'Exit channel',
      description:
        'Previous candles whose lowest low (long) / highest high (short) a close must break to exit.',
      kind: 'int',
      min: 2,
      max: 250,
      step: 2,
      default: 10,
    },
  ],
  rules(p, fail) {
    if (p.exitLookback >= p.lookback)
      fail('exitLookback', `must be less than the entry channel (${p.lookback})`);
  },
  warmup: (p) => p.lookback,
  create(p) {
    const high = new RollingExtreme(p.lookback, 'max');
    const low = new RollingExtreme(p.lookback, 'min');
    const exitHigh = new RollingExtreme(p.exitLookback, 'max');
    const exitLow = new RollingExtreme(p.exitLookback, 'min');
    let position = 0;
    const decide = (close: number): number => {
      if (position <= 0 && close > high.value) return 1;
      if (position >= 0 && close < low.value) return -1;
      if (position > 0 && close < exitLow.value) return 0;
      if (position < 0 && close > exitHigh.value) return 0;
      return position;
    };
    return {
      onCandle(c) {
        let decision = null;
        if (high.full) {
          const target = decide(c.close);
          if (target !== position) {
            const reason =
              target === 1
                ? `close ${fmt(c.close)} broke above the ${p.lookback}-candle high ${fmt(high.value)}`
                : target === -1
                  ? `close ${fmt(c.close)} broke below the ${p.lookback}-candle low ${fmt(low.value)}`
                  : position > 0
                    ? `close ${fmt(c.close)} fell below the ${p.exitLookback}-candle low ${fmt(exitLow.value)}`
                    : `close ${fmt(c.close)} rose above the ${p.exitLookback}-candle high ${fmt(exitHigh.value)}`;
            position = target;
            decision = { target, reason };
          }
        }
        high.push(c.high);
        low.push(c.low);
        exitHigh.push(c.high);
        exitLow.push(c.low);
        return decision;
      },
    };
  },
});
