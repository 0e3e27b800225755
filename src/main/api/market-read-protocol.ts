/**
 * The messages between the core and the market read thread: a request carries an id, its reply the
 * same id. A failure comes back as data (an ApiError's code, message and field; or, for anything
 * else, a message and stack with no code) and is thrown again on the core's side.
 */
import type { MarketGapsResult, MarketSeriesResult } from '../../shared/market-api';
import { ApiError, type ErrorCode } from '../../shared/errors';
import { readGaps, readSeries, type GapsQuery, type MarketFiles, type SeriesQuery } from './market-reads';

export interface MarketReads {
  gaps: { query: GapsQuery; result: MarketGapsResult };
  series: { query: SeriesQuery; result: MarketSeriesResult };
}
export type MarketReadKind = keyof MarketReads;

export type MarketReadRequest = {
  [K in MarketReadKind]: { id: number; kind: K; query: MarketReads[K]['query'] };
}[MarketReadKind];

export interface MarketReadFailure {
  /** Set when the reader chose the error (an ApiError); absent for a bug or a crash. */
  code?: ErrorCode;
  message: string;
  field?: string;
  stack?: string;
}

export type MarketReadReply =
  | { id: number; ok: true; result: MarketReads[MarketReadKind]['result'] }
  | { id: number; ok: false; error: MarketReadFailure };

/** What the thread starts with. */
export type MarketReadWorkerData = MarketFiles;

/** Runs one request (on the read thread); never throws. */
export function answer(files: MarketFiles, request: MarketReadRequest): MarketReadReply {
  try {
    const result =
      request.kind === 'gaps' ? readGaps(files, request.query) : readSeries(files, request.query);
    return { id: request.id, ok: true, result };
  } catch (error) {
    return { id: request.id, ok: false, error: toFailure(error) };
  }
}

function toFailure(error: unknown): MarketReadFailure {
  if (error instanceof ApiError) return error.toShape();
  if (error instanceof Error)
    return { message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { message: String(error) };
}

/** The error to throw on the core's side: the same ApiError, or a plain Error (an `internal` one). */
export function fromFailure(failure: MarketReadFailure): Error {
  if (failure.code) return new ApiError(failure.code, failure.message, failure.field);
  const error = new Error(failure.message);
  if (failure.stack) error.stack = failure.stack;
  return error;
}
