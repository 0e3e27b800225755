/**
 * What the core and the `optimizer` child say to each other over the child protocol's `request`,
 * `reply` and `event` messages (docs/child-protocol.md). The core is the only writer of control.db:
 * the child computes and reports, the core stores.
 *
 *   request `start` OptimizerStartParams → reply OptimizerStartReply   (refused: a reply error, with
 *       code `busy`, `strategy`, `space`, `data-changed` or a DatasetError's code, and a request field)
 *   request `cancel` { runId } → { cancelled: boolean }
 *   event `trial` OptimizerTrialEvent     one finished (or failed) trial, as it finishes
 *   event `finished` OptimizerFinishedEvent   every trial of the run was reported (or it failed)
 *
 * `done` lists the trials already stored, as inclusive id ranges: a resumed run computes the rest.
 * `snapshot` is what the run's first start found: a resumed run uses the same data range and split,
 * and refuses data that changed since (other candles or gaps), so one run's trials share one dataset.
 */
import { z } from 'zod';
import { gapCauses, venues } from './market';
import type { CrossedGap, OptimizerRequest } from './optimizer-api';

export const OPTIMIZER_METHODS = { start: 'start', cancel: 'cancel' } as const;
export const OPTIMIZER_EVENTS = { trial: 'trial', finished: 'finished' } as const;

export interface OptimizerSnapshot {
  dataTo: number;
  split: number;
  candles: number;
  gapIds: number[];
}

export interface OptimizerStartParams {
  runId: number;
  request: OptimizerRequest;
  strategyVersion: number;
  /** Null on a run's first start. */
  snapshot: OptimizerSnapshot | null;
  /** Trials already stored, as inclusive [first, last] id ranges. */
  done: [number, number][];
}

export interface OptimizerStartReply {
  total: number;
  skipped: number;
  /** Trials it will compute now (total less those done). */
  pending: number;
  candles: number;
  dataTo: number;
  split: number;
  gaps: CrossedGap[];
}

const nullableNumber = z.number().nullable();
export const trialMetricsSchema = z
  .object({
    totalReturn: z.number(),
    sharpe: nullableNumber,
    sortino: nullableNumber,
    calmar: nullableNumber,
    maxDrawdown: z.number(),
    winRate: nullableNumber,
    trades: z.number().int().min(0),
    exposure: z.number(),
    finalEquity: z.number(),
    fees: z.number(),
    candles: z.number().int().min(0),
    periodsPerYear: z.number(),
    ruined: z.boolean(),
  })
  .strict();

/** At most this many points a curve (the optimizer sends TRIAL_EQUITY_POINTS). */
const MAX_EQUITY_POINTS = 1000;
/**
 * A curve: base64 of its [at, equity] points as little-endian Float64 pairs (16 bytes a point; ''
 * for none). src/services/optimizer/equity-codec.ts writes and reads it.
 */
const packedEquity = z
  .string()
  .max(Math.ceil((MAX_EQUITY_POINTS * 16) / 3) * 4)
  .refine(
    (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 && base64Bytes(s) % 16 === 0,
    'base64 of [at, equity] Float64 pairs (16 bytes a point)',
  );

function base64Bytes(s: string): number {
  return (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
}

export const optimizerTrialEventSchema = z.object({
  runId: z.number().int().positive(),
  trial: z.object({
    id: z.number().int().min(0),
    params: z.record(z.string(), z.number()),
    status: z.enum(['done', 'failed']),
    inSample: trialMetricsSchema.nullable(),
    outOfSample: trialMetricsSchema.nullable(),
    score: nullableNumber,
    outOfSampleScore: nullableNumber,
    meetsConstraints: z.boolean(),
    error: z.string().max(2000).nullable(),
    durationMs: z.number().min(0),
    equity: z.object({ inSample: packedEquity, outOfSample: packedEquity }),
  }),
});
export type OptimizerTrialEvent = z.infer<typeof optimizerTrialEventSchema>;
export type TrialWire = OptimizerTrialEvent['trial'];

export const optimizerFinishedEventSchema = z.object({
  runId: z.number().int().positive(),
  status: z.enum(['done', 'failed']),
  error: z.string().max(4000).optional(),
});
export type OptimizerFinishedEvent = z.infer<typeof optimizerFinishedEventSchema>;

const gapSchema = z.object({
  id: z.number().int(),
  venue: z.enum(venues),
  symbol: z.string().nullable(),
  stream: z.string(),
  start: z.number(),
  end: z.number().nullable(),
  cause: z.enum(gapCauses),
  detail: z.string(),
  description: z.string(),
});

export const optimizerStartReplySchema = z.object({
  total: z.number().int().min(0),
  skipped: z.number().int().min(0),
  pending: z.number().int().min(0),
  candles: z.number().int().min(0),
  dataTo: z.number(),
  split: z.number(),
  gaps: z.array(gapSchema).max(10_000),
});

/** Ids as inclusive ranges: [0, 1, 2, 5, 6] → [[0, 2], [5, 6]] (ids sorted ascending). */
export function idRanges(sortedIds: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const id of sortedIds) {
    const last = out.at(-1);
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}

/** The ids in ranges, as a set. */
export function idsOf(ranges: readonly [number, number][]): Set<number> {
  const out = new Set<number>();
  for (const [a, b] of ranges) for (let i = a; i <= b; i++) out.add(i);
  return out;
}
