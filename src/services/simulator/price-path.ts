/**
 * A scripted price path: instead of its random walk, a symbol's fair price holds each price of the
 * path for its `holdMs`, then jumps to the next (the last price holds for good unless `loop`). Tests
 * drive a strategy through known turns with it; the book and the trades follow it on every venue with
 * the same protocol and sequence rules as the random market (see SymbolMarket).
 */
import { z } from 'zod';

export const pricePathSchema = z
  .object({
    path: z
      .array(
        z
          .object({
            /** In quote currency, as on the venue's wire (rounded to the venue's tick). */
            price: z.number().positive('price must be above 0').finite(),
            /** Segments shorter than the market step (50 ms by default) may be skipped. */
            holdMs: z.number().int().min(1, 'holdMs must be at least 1').max(86_400_000),
          })
          .strict(),
      )
      .min(1, 'a path needs at least one price')
      .max(10_000),
    /** Start over after the last segment (default: hold the last price). */
    loop: z.boolean().optional(),
  })
  .strict();

export type PricePath = z.infer<typeof pricePathSchema>;

/** Where a path is at a moment: its segment, that segment's price, and when the segment began and ends. */
export interface PathPosition {
  index: number;
  price: number;
  since: number;
  /** When the next segment starts; null once the last price holds for good. */
  until: number | null;
}

/** Validates a path from outside (config, control endpoint); errors name the field. */
export function parsePricePath(input: unknown): { ok: true; path: PricePath } | { ok: false; error: string } {
  const parsed = pricePathSchema.safeParse(input);
  if (parsed.success) return { ok: true, path: parsed.data };
  const error = parsed.error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'path'}: ${issue.message}`)
    .join('; ');
  return { ok: false, error: `invalid price path: ${error}` };
}

/** The segment of `script` in force at `now` for a path started at `startedAt`. */
export function pathPositionAt(script: PricePath, startedAt: number, now: number): PathPosition {
  const segments = script.path;
  const total = segments.reduce((sum, s) => sum + s.holdMs, 0);
  let elapsed = Math.max(0, now - startedAt);
  let base = startedAt;
  if (script.loop) {
    const rounds = Math.floor(elapsed / total);
    base += rounds * total;
    elapsed -= rounds * total;
  } else if (elapsed >= total) {
    const last = segments.length - 1;
    return {
      index: last,
      price: segments[last]!.price,
      since: startedAt + total - segments[last]!.holdMs,
      until: null,
    };
  }
  let start = 0;
  for (let index = 0; index < segments.length; index++) {
    const end = start + segments[index]!.holdMs;
    if (elapsed < end)
      return { index, price: segments[index]!.price, since: base + start, until: base + end };
    start = end;
  }
  // Unreachable: elapsed < total here.
  const last = segments.length - 1;
  return {
    index: last,
    price: segments[last]!.price,
    since: base + total - segments[last]!.holdMs,
    until: base + total,
  };
}
