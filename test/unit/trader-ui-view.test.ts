/** The Trader page's words and figures: money and P&L tones, blocks in words, the strategy's source. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_LIMITS, type TraderSnapshot } from '../../src/shared/trader-api';
import {
  blocksInWords,
  canResumeOpening,
  formatAgo,
  openingHeadline,
  staleWords,
} from '../../src/shared/trader-ui/blocks';
import {
  formatMoney,
  formatPrice,
  formatQty,
  formatSignedMoney,
  formatSignedPercent,
  modeBadge,
  pnlTone,
  positionWords,
} from '../../src/shared/trader-ui/format';
import {
  formatParamValue,
  strategyLine,
  strategyParams,
  strategySourceText,
} from '../../src/shared/trader-ui/strategy';

const NOW = 1_760_000_000_000;

function snapshot(patch: Partial<TraderSnapshot> = {}): TraderSnapshot {
  return {
    service: 'trader',
    mode: 'paper',
    at: NOW,
    running: true,
    reloading: false,
    blocks: [],
    venue: 'binance-spot',
    resolution: '1s',
    strategy: { id: 'ma-crossover', version: 1, params: {}, source: null, warmupLeft: 0 },
    limits: DEFAULT_RISK_LIMITS,
    account: {
      initialEquity: 10_000,
      cash: 10_000,
      equity: 10_000,
      realizedPnl: 0,
      unrealizedPnl: 0,
      fees: 0,
      dayStartEquity: 10_000,
      dayPnl: 0,
    },
    positions: [],
    workingOrders: [],
    feeds: [
      { symbol: 'BTCUSDT', bid: 100, ask: 101, lastAt: NOW - 200, stale: false },
      { symbol: 'ETHUSDT', bid: 10, ask: 11, lastAt: NOW - 300, stale: false },
    ],
    feedProblem: null,
    lastDecision: null,
    counters: { ticks: 0, decisions: 0, orders: 0, fills: 0, rejected: 0 },
    ...patch,
  };
}

describe('money and P&L', () => {
  it('groups, fixes two decimals and uses a real minus sign', () => {
    expect(formatMoney(10234.5)).toBe('10,234.50');
    expect(formatMoney(-4.1)).toBe('−4.10');
    expect(formatMoney(null)).toBe('—');
    expect(formatMoney(Number.NaN)).toBe('—');
  });

  it('signs P&L, and a figure that shows as zero is flat, unsigned and not coloured', () => {
    expect(formatSignedMoney(12.3)).toBe('+12.30');
    expect(formatSignedMoney(-12.3)).toBe('−12.30');
    expect(formatSignedMoney(0)).toBe('0.00');
    expect(formatSignedMoney(-0.001)).toBe('0.00');
    expect(formatSignedMoney(0.004)).toBe('0.00');
    expect(pnlTone(12.3)).toBe('up');
    expect(pnlTone(-0.01)).toBe('down');
    expect(pnlTone(-0.001)).toBe('flat');
    expect(pnlTone(0)).toBe('flat');
    expect(pnlTone(null)).toBe('flat');
  });

  it('gives the day P&L as a signed share of the day-start equity', () => {
    expect(formatSignedPercent(125, 10_000)).toBe('+1.25 %');
    expect(formatSignedPercent(-50, 10_000)).toBe('−0.50 %');
    expect(formatSignedPercent(0.1, 10_000)).toBe('0.00 %');
    expect(formatSignedPercent(5, 0)).toBe('');
  });

  it('writes quantities, prices and positions', () => {
    expect(formatQty(0.0125)).toBe('0.0125');
    expect(formatQty(-0.5)).toBe('−0.5');
    expect(formatQty(2)).toBe('2');
    expect(formatPrice(65_432.1)).toBe('65,432.10');
    expect(formatPrice(1.23456)).toBe('1.2346');
    expect(formatPrice(0.0812345)).toBe('0.081235');
    expect(positionWords(0)).toBe('Flat');
    expect(positionWords(0.5)).toBe('Long 0.5');
    expect(positionWords(-2)).toBe('Short 2');
  });

  it('names the mode in capitals', () => {
    expect(modeBadge('paper')).toBe('PAPER');
    expect(modeBadge('live')).toBe('LIVE');
    expect(modeBadge('unknown')).toBe('MODE UNKNOWN');
  });
});

describe('blocks in words', () => {
  it('says how long each stale symbol has been without data, by the caller’s clock', () => {
    const s = snapshot({
      blocks: ['stale'],
      feeds: [
        { symbol: 'BTCUSDT', bid: 100, ask: 101, lastAt: NOW - 7_400, stale: true },
        { symbol: 'ETHUSDT', bid: 10, ask: 11, lastAt: NOW - 100, stale: false },
        { symbol: 'SOLUSDT', bid: null, ask: null, lastAt: null, stale: true },
      ],
    });
    expect(staleWords(s, NOW)).toBe('BTCUSDT data stale for 7 s, SOLUSDT: no data yet');
    const [note] = blocksInWords(s, NOW);
    expect(note).toMatchObject({ block: 'stale', byPerson: false, tone: 'warn' });
    expect(note!.text).toMatch(
      /^Paused: BTCUSDT data stale for 7 s, SOLUSDT: no data yet\. New orders resume/,
    );
    // Seconds later, with no new snapshot, the age has grown.
    expect(blocksInWords(s, NOW + 65_000)[0]!.text).toContain('BTCUSDT data stale for 1 min 12 s');
  });

  it('names the collector’s problem when the feed is degraded', () => {
    const s = snapshot({ blocks: ['stale'], feedProblem: 'collector binance-spot is degraded' });
    expect(blocksInWords(s, NOW)[0]!.text).toBe(
      'Paused: market data problem: collector binance-spot is degraded. New orders resume by themselves when the data is fresh again.',
    );
  });

  it('words the daily loss halt with the loss and the limit, and warm-up with the candles left', () => {
    const s = snapshot({
      blocks: ['daily-loss', 'warming'],
      account: { ...snapshot().account, dayPnl: -512.3 },
      strategy: { ...snapshot().strategy, warmupLeft: 12 },
    });
    const notes = blocksInWords(s, NOW);
    expect(notes.map((n) => n.block)).toEqual(['daily-loss', 'warming']);
    expect(notes[0]!.text).toBe(
      "Paused: today's loss (−512.30) reached the daily loss limit of 500.00. Opening resumes at the start of the next UTC day.",
    );
    expect(notes[0]!.tone).toBe('bad');
    expect(notes[1]!.text).toBe("Warming up: 12 more 1s candles before the strategy's first decision.");
    const one = snapshot({ blocks: ['warming'], strategy: { ...snapshot().strategy, warmupLeft: 1 } });
    expect(blocksInWords(one, NOW)[0]!.text).toContain('1 more 1s candle before');
  });

  it('marks the blocks a person lifts, and lists each block once', () => {
    const s = snapshot({ blocks: ['person', 'kill-switch', 'person', 'reloading'] });
    const notes = blocksInWords(s, NOW);
    expect(notes.map((n) => [n.block, n.byPerson])).toEqual([
      ['person', true],
      ['kill-switch', true],
      ['reloading', false],
    ]);
    expect(notes[0]!.text).toMatch(/^Paused by you/);
    expect(notes[1]!.text).toMatch(/^Stopped by the kill switch/);
    expect(canResumeOpening(s)).toBe(true);
    expect(canResumeOpening(snapshot({ blocks: ['stale'] }))).toBe(false);
  });

  it('sums up opening in one line for the card', () => {
    expect(openingHeadline(snapshot(), NOW)).toEqual({ paused: false, text: 'Opening positions allowed' });
    expect(openingHeadline(snapshot({ running: false }), NOW).text).toMatch(/^Not running/);
    const two = openingHeadline(snapshot({ blocks: ['person', 'stale'] }), NOW);
    expect(two.paused).toBe(true);
    expect(two.text).toMatch(/^Paused by you.*\(\+1 more\)$/);
  });

  it('writes ages to the second', () => {
    expect(formatAgo(7_999)).toBe('7 s');
    expect(formatAgo(-5)).toBe('0 s');
    expect(formatAgo(125_000)).toBe('2 min 05 s');
    expect(formatAgo(3_840_000)).toBe('1 h 04 min');
  });
});

describe('the strategy and where it came from', () => {
  it('names the optimizer run and trial, or says it was set by hand', () => {
    expect(strategySourceText(null)).toBe('set by hand');
    expect(strategySourceText({ runId: 12, trialId: 40, appliedAt: NOW }, () => '2025-10-09 10:13:20')).toBe(
      'optimizer run 12, trial 40, applied 2025-10-09 10:13:20',
    );
    // The default formatter is the shared timestamp (local time).
    expect(strategySourceText({ runId: 1, trialId: 0, appliedAt: NOW })).toMatch(
      /^optimizer run 1, trial 0, applied \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/,
    );
  });

  it('lists parameters alphabetically and writes them as typed', () => {
    expect(strategyParams({ slow: 30, fast: 10, band: 0.123456789 })).toEqual([
      { name: 'band', value: '0.123457' },
      { name: 'fast', value: '10' },
      { name: 'slow', value: '30' },
    ]);
    expect(formatParamValue(2.5)).toBe('2.5');
    expect(strategyLine({ ...snapshot().strategy, params: { slow: 30, fast: 10 }, version: 2 })).toBe(
      'ma-crossover v2 (fast 10, slow 30)',
    );
    expect(strategyLine(snapshot().strategy)).toBe('ma-crossover v1 (its defaults)');
  });
});
