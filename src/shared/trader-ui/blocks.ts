/**
 * Why a trader may not open positions, in words a person acts on ("Paused: BTCUSDT data stale for
 * 7 s"), from its snapshot and the time now (stale ages grow between snapshots, so the caller's
 * clock decides them, not the snapshot's).
 *
 * In src/shared only so plain Node tests can import it; only the renderer uses it.
 */
import type { OpeningBlock, TraderSnapshot } from '../trader-api';
import { formatMoney, formatSignedMoney } from './format';

export interface BlockNote {
  block: OpeningBlock;
  text: string;
  /** A person lifts it with Resume opening (the others lift themselves). */
  byPerson: boolean;
  /** How serious it looks: a person's or a warm-up pause is calm, a halt is not. */
  tone: 'info' | 'warn' | 'bad';
}

/** "7 s", "2 min 05 s", "1 h 04 min": how long ago, to the second. */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** "BTCUSDT data stale for 7 s, ETHUSDT no data yet" (empty when no symbol is stale). */
export function staleWords(s: TraderSnapshot, now: number): string {
  return s.feeds
    .filter((f) => f.stale)
    .map((f) =>
      f.lastAt === null
        ? `${f.symbol}: no data yet`
        : `${f.symbol} data stale for ${formatAgo(now - f.lastAt)}`,
    )
    .join(', ');
}

function blockNote(s: TraderSnapshot, block: OpeningBlock, now: number): BlockNote {
  switch (block) {
    case 'person':
      return {
        block,
        byPerson: true,
        tone: 'info',
        text: 'Paused by you: no new positions are opened; open positions are kept and may still be closed. Resume opening to trade again.',
      };
    case 'kill-switch':
      return {
        block,
        byPerson: true,
        tone: 'bad',
        text: 'Stopped by the kill switch: every working order was canceled and every position closed. Opening stays off until you resume it.',
      };
    case 'daily-loss':
      return {
        block,
        byPerson: false,
        tone: 'bad',
        text: `Paused: today's loss (${formatSignedMoney(s.account.dayPnl)}) reached the daily loss limit of ${formatMoney(s.limits.maxDailyLoss)}. Opening resumes at the start of the next UTC day.`,
      };
    case 'stale': {
      const stale = staleWords(s, now);
      const parts = [stale, s.feedProblem ? `market data problem: ${s.feedProblem}` : ''].filter(Boolean);
      return {
        block,
        byPerson: false,
        tone: 'warn',
        text: `Paused: ${parts.length > 0 ? parts.join('; ') : 'market data stale'}. New orders resume by themselves when the data is fresh again.`,
      };
    }
    case 'warming': {
      const left = s.strategy.warmupLeft;
      return {
        block,
        byPerson: false,
        tone: 'info',
        text:
          left > 0
            ? `Warming up: ${left} more ${s.resolution} candle${left === 1 ? '' : 's'} before the strategy's first decision.`
            : "Warming up: the strategy's first decision comes with the next closed candle.",
      };
    }
    case 'reloading':
      return {
        block,
        byPerson: false,
        tone: 'info',
        text: 'Applying new parameters: market data is buffered meanwhile and replayed in order after.',
      };
  }
}

/** One sentence per block, in the snapshot's order; empty when the trader may open positions. */
export function blocksInWords(s: TraderSnapshot, now: number): BlockNote[] {
  const seen = new Set<OpeningBlock>();
  const notes: BlockNote[] = [];
  for (const block of s.blocks) {
    if (seen.has(block)) continue;
    seen.add(block);
    notes.push(blockNote(s, block, now));
  }
  return notes;
}

/** The one line a card shows: "Opening allowed", or the first block's words (and how many more). */
export function openingHeadline(s: TraderSnapshot, now: number): { paused: boolean; text: string } {
  if (!s.running) return { paused: true, text: 'Not running: nothing is traded until you start it.' };
  const notes = blocksInWords(s, now);
  if (notes.length === 0) return { paused: false, text: 'Opening positions allowed' };
  const more = notes.length - 1;
  return { paused: true, text: more > 0 ? `${notes[0]!.text} (+${more} more)` : notes[0]!.text };
}

/** Whether Resume opening does anything: a person's stop or the kill switch is among the blocks. */
export function canResumeOpening(s: TraderSnapshot): boolean {
  return s.blocks.includes('person') || s.blocks.includes('kill-switch');
}
