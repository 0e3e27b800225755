/**
 * The Trader page's figures as text: money, signed P&L with its tone (the colour says up or down, the
 * sign says it too, so colour is never the only cue), quantities and prices, order sides and states.
 *
 * In src/shared only so plain Node tests can import it; only the renderer uses it.
 */
import type { OrderStatus, TraderExecutionMode } from '../trader-api';

export type PnlTone = 'up' | 'down' | 'flat';

const MINUS = '−';

/** 10,234.56 (two decimals, grouped); a dash for a missing figure. */
export function formatMoney(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = Math.abs(value).toLocaleString('en', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return isZeroAt(value, digits) ? text : value < 0 ? `${MINUS}${text}` : text;
}

/** +12.30 · −4.10 · 0.00: a P&L figure always carries its sign (none when it shows as zero). */
export function formatSignedMoney(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = formatMoney(value, digits);
  return value > 0 && !isZeroAt(value, digits) ? `+${text}` : text;
}

/** Up, down, or flat as shown: a loss of 0.001 shows as 0.00 and is not painted red. */
export function pnlTone(value: number | null | undefined, digits = 2): PnlTone {
  if (value === null || value === undefined || !Number.isFinite(value) || isZeroAt(value, digits)) {
    return 'flat';
  }
  return value > 0 ? 'up' : 'down';
}

/** +1.25 % of a base (the day's P&L of the day-start equity); empty when the base is not positive. */
export function formatSignedPercent(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base <= 0) return '';
  const pct = (value / base) * 100;
  if (Math.abs(pct) < 0.005) return '0.00 %';
  return `${pct > 0 ? '+' : MINUS}${Math.abs(pct).toFixed(2)} %`;
}

/** Base units: up to 8 decimals, trailing zeros dropped (0.0125, 2, −0.5). */
export function formatQty(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = Math.abs(value).toLocaleString('en', { maximumFractionDigits: 8 });
  return value < 0 && text !== '0' ? `${MINUS}${text}` : text;
}

/** A price with the decimals it needs: 2 above 1 000, more for small prices (0.08123). */
export function formatPrice(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 2 : abs >= 1 ? 4 : 6;
  return value.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: digits });
}

/** Long 0.5 · Short 0.5 · Flat. */
export function positionWords(qty: number): string {
  if (qty === 0) return 'Flat';
  return `${qty > 0 ? 'Long' : 'Short'} ${formatQty(Math.abs(qty))}`;
}

export const orderStatusWords: Record<OrderStatus, string> = {
  new: 'recorded, not sent yet',
  working: 'working',
  filled: 'filled',
  canceled: 'canceled',
  rejected: 'rejected',
};

/** The badge text of a mode: PAPER or LIVE, in capitals everywhere it is shown. */
export function modeBadge(mode: TraderExecutionMode | 'unknown'): string {
  return mode === 'unknown' ? 'MODE UNKNOWN' : mode.toUpperCase();
}

export function modeExplain(mode: TraderExecutionMode): string {
  return mode === 'paper'
    ? 'Paper trading: orders are simulated against the live top of book, with fees, slippage and latency. Nothing is sent to an exchange.'
    : 'Live trading: real orders with real money on the exchange.';
}

function isZeroAt(value: number, digits: number): boolean {
  return Math.abs(value) < 0.5 * 10 ** -digits;
}
