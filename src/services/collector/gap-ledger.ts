/**
 * A collector's side of the gap ledger: one-off gaps (written whole), and book gaps that open when a
 * synced book is lost and close when it is whole again — at most one open per symbol, the first cause
 * stands. Every gap is recorded (when recording) and published on `md.<venue>.<symbol|_>.gap`.
 */
import { marketSubject, type GapCause, type GapRecord, type Venue } from '../../shared/market';
import type { CollectorSinks } from './collector';

export class GapLedger {
  private readonly openBookGaps = new Map<string, { id: number | null; gap: GapRecord }>();

  constructor(
    private readonly venue: Venue,
    private readonly sinks: CollectorSinks,
  ) {}

  /** A gap whose end is known (or that will never end, e.g. trade ids that never arrived). */
  record(g: Omit<GapRecord, 'venue'>): void {
    const gap: GapRecord = { venue: this.venue, ...g };
    this.sinks.recorder?.recordGap(gap);
    this.publish(gap);
  }

  /** A symbol's book is lost since `start`; a no-op while its previous loss is still open. */
  openBook(symbol: string, cause: GapCause, detail: string, start: number): void {
    if (this.openBookGaps.has(symbol)) return;
    const gap: GapRecord = { venue: this.venue, symbol, stream: 'book', start, end: null, cause, detail };
    const id = this.sinks.recorder?.openGap(gap) ?? null;
    this.openBookGaps.set(symbol, { id, gap });
    this.publish(gap);
  }

  /** The symbol's book is whole again at `end`. */
  closeBook(symbol: string, end: number): void {
    const open = this.openBookGaps.get(symbol);
    if (!open) return;
    this.openBookGaps.delete(symbol);
    if (open.id !== null) this.sinks.recorder?.closeGap(open.id, end);
    this.publish({ ...open.gap, end });
  }

  isBookOpen(symbol: string): boolean {
    return this.openBookGaps.has(symbol);
  }

  /** At shutdown: the ledger never keeps a dangling gap. */
  closeAll(end: number): void {
    for (const symbol of [...this.openBookGaps.keys()]) this.closeBook(symbol, end);
  }

  private publish(gap: GapRecord): void {
    // A connection-wide gap has no symbol: it goes out under `_` so the UI can still subscribe.
    this.sinks.publish(marketSubject(this.venue, gap.symbol ?? '_', 'gap'), gap);
  }
}
