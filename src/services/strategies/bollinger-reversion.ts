/**
 * Bollinger-band mean reversion: with z = (close − mean) / standard deviation of the last `period`
 * closes (this one included, population deviation), go long when z ≤ −entryZ (stretched below the
 * band), short when z ≥ entryZ, and go flat once the close is back within exitZ deviations of the
 * mean (long: z ≥ −exitZ; short: z ≤ exitZ). A close beyond the opposite band flips the position.
 *
 * Per candle O(period): mean and deviation are recomputed over the window (exact, no drift). Warmup:
 * `period − 1` candles (the first z exists on the period-th candle). No decision while the window is
 * flat (deviation 0).
 */
import { RollingWindow } from './rolling';
import { defineStrategy, fmt } from './strategy';

export const bollingerReversion = defineStrategy({
  id: 'bollinger-reversion',
  version: 1,
  label: 'Bollinger-band mean reversion',
  description:
    'Long below the lower band, short above the upper band, flat once the close is back near the mean.',
  params: [
    {
      name: 'period',
      label: 'Period',
      description: 'Candles in the moving mean and standard deviation.',
      kind: 'int',
      min: 5,
      max: 200,
      step: 5,
      default: 20,
    },
    {
      name: 'entryZ',
      label: 'Entry band (σ)',
      description: 'Standard deviations from the mean at which a position is opened.',
      kind: 'float',
      min: 0.5,
      max: 4,
      step: 0.25,
      default: 2,
    },
    {
      name: 'exitZ',
      label: 'Exit band (σ)',
      description: 'A position is closed once the close is back within this many deviations of the mean.',
      kind: 'float',
      min: 0,
      max: 3,
      step: 0.25,
      default: 0,
    },
  ],
  rules(p, fail) {
    if (p.exitZ >= p.entryZ) fail('exitZ', `must be less than the entry band (${p.entryZ})`);
  },
  warmup: (p) => p.period - 1,
  create(p) {
    const w = new RollingWindow(p.period);
    let position = 0;
    return {
      onCandle(c) {
        w.push(c.close);
        if (!w.full) return null;
        w.meanStd();
        if (!(w.std > 0)) return null;
        const z = (c.close - w.mean) / w.std;
        let target = position;
        if (position <= 0 && z <= -p.entryZ) target = 1;
        else if (position >= 0 && z >= p.entryZ) target = -1;
        else if ((position > 0 && z >= -p.exitZ) || (position < 0 && z <= p.exitZ)) target = 0;
        if (target === position) return null;
        position = target;
        // Formatted only here: most candles decide nothing.
        const where = `close ${fmt(c.close)}, mean ${fmt(w.mean)}, z ${fmt(z)}`;
        const reason =
          target === 0
            ? `${where}: back within ${p.exitZ}σ of the mean`
            : `${where}: at or ${target > 0 ? 'below the lower' : 'above the upper'} band ` +
              fmt(w.mean - target * p.entryZ * w.std);
        return { target, reason };
      },
    };
  },
});
