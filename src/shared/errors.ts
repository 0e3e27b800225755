/** Every failure that crosses the API boundary is one of these codes, never a thrown exception. */
export const errorCodes = [
  'invalid_input', // the input failed its schema; `field` names the first offending field
  'unknown_command',
  'unknown_event',
  'not_found',
  'conflict', // the request is valid but the current state forbids it
  'confirmation-required', // a person must confirm first (starting a trader: `confirm: { mode }`); `field` says what
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'bad_request', // a malformed frame: not JSON, or not a request at all
  'unavailable',
  'internal', // a handler failed; the process keeps serving
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface ApiErrorShape {
  code: ErrorCode;
  message: string;
  field?: string;
}

/** Thrown by handlers to choose the error code; the router turns it into an envelope. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    if (field !== undefined) this.field = field;
  }

  toShape(): ApiErrorShape {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export type Envelope<T> = { ok: true; result: T } | { ok: false; error: ApiErrorShape };

export function ok<T>(result: T): Envelope<T> {
  return { ok: true, result };
}

export function fail(code: ErrorCode, message: string, field?: string): Envelope<never> {
  return { ok: false, error: new ApiError(code, message, field).toShape() };
}

export function isApiErrorShape(value: unknown): value is ApiErrorShape {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === 'string' &&
    (errorCodes as readonly string[]).includes(v.code) &&
    typeof v.message === 'string' &&
    (v.field === undefined || typeof v.field === 'string')
  );
}
