/**
 * A small JSON-over-HTTP client for exchange REST endpoints (depth snapshots, open interest, ratios)
 * that never hammers a rate-limited API. After an HTTP 429 (rate limited) or 418 (IP banned, "from
 * 2 minutes to 3 days" on Binance), every request fails fast with `RateLimitedError` until the
 * Retry-After time has passed; nothing reaches the network meanwhile.
 */
import { parseRetryAfter } from './backoff';

export type QueryParams = Record<string, string | number | boolean | undefined>;

/** Requests are refused until `retryAt` (epoch ms): the API said 429 or 418, or our weight budget is spent. */
export class RateLimitedError extends Error {
  readonly status: number;
  readonly retryAt: number;
  readonly url: string;
  /** True when refused by our own weight budget, before asking the server. */
  readonly local: boolean;

  constructor(status: number, retryAt: number, url: string, detail: string, local = false) {
    super(`GET ${url}: ${detail}; retry after ${new Date(retryAt).toISOString()}`);
    this.name = 'RateLimitedError';
    this.status = status;
    this.retryAt = retryAt;
    this.url = url;
    this.local = local;
  }
}

export type RestErrorKind = 'http' | 'timeout' | 'network' | 'parse' | 'aborted';

/** A failed request: names the URL, the status and the exchange's `{"code","msg"}` when it sent one. */
export class RestError extends Error {
  readonly kind: RestErrorKind;
  readonly url: string;
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;
  /** The exchange's error code (Binance `code`, e.g. -1121), when the body had one. */
  readonly code: number | null;
  /** The exchange's error message (Binance `msg`), when the body had one. */
  readonly exchangeMessage: string | null;
  /** The start of the response body (at most 500 characters), when there was one. */
  readonly body: string | null;

  constructor(init: {
    kind: RestErrorKind;
    url: string;
    status?: number | null;
    code?: number | null;
    exchangeMessage?: string | null;
    body?: string | null;
    message: string;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'RestError';
    this.kind = init.kind;
    this.url = init.url;
    this.status = init.status ?? null;
    this.code = init.code ?? null;
    this.exchangeMessage = init.exchangeMessage ?? null;
    this.body = init.body ?? null;
  }
}

export interface RestClientOptions {
  /** Per request, body included. Default 10 s. */
  timeoutMs?: number;
  userAgent?: string;
  /** Wait after a 429 without Retry-After. Default 60 s. */
  rateLimitDefaultMs?: number;
  /** Wait after a 418 without Retry-After. Default 2 min (Binance's shortest ban). */
  banDefaultMs?: number;
  /**
   * Our own request-weight budget per minute (e.g. a share of `/api/v3/exchangeInfo` `rateLimits`):
   * a request whose weight would take the last reported 1-minute weight, plus requests in flight, past
   * it is refused locally with `RateLimitedError { local: true }` until the next minute. Default: none.
   */
  weightLimitPerMinute?: number;
  fetch?: typeof fetch;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export interface RestRequestOptions {
  /** The endpoint's request weight (Binance docs), for our budget and the stats. Default 1. */
  weight?: number;
  signal?: AbortSignal;
}

export interface RestClientStats {
  /** Requests sent to the network. */
  requests: number;
  ok: number;
  /** Requests that failed (HTTP error, timeout, network, unreadable body), 429/418 included. */
  errors: number;
  timeouts: number;
  /** 429 and 418 responses. */
  rateLimited: number;
  /** 418 responses. */
  bans: number;
  /** Requests refused without touching the network (rate-limit hold or weight budget). */
  refused: number;
  /** Sum of the weights of requests sent. */
  weightSent: number;
  /** The last reported `X-MBX-USED-WEIGHT-1M` (or the only weight header), or null. */
  usedWeight: number | null;
  /** Epoch ms until which requests are refused, or null. */
  retryAt: number | null;
  lastStatus: number | null;
}

const WEIGHT_HEADER = /^x-mbx-used-weight-(\d+[smhd])$/i;

export class RestClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly userAgent: string | undefined;
  private readonly rateLimitDefaultMs: number;
  private readonly banDefaultMs: number;
  private readonly weightLimit: number | null;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private hold: { until: number; status: number; detail: string } | null = null;
  private weights: Record<string, number> = {};
  private weightMinute = -1;
  private inFlightWeight = 0;
  private counters = {
    requests: 0,
    ok: 0,
    errors: 0,
    timeouts: 0,
    rateLimited: 0,
    bans: 0,
    refused: 0,
    weightSent: 0,
  };
  private lastStatus: number | null = null;

  constructor(baseUrl: string, options: RestClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.userAgent = options.userAgent;
    this.rateLimitDefaultMs = options.rateLimitDefaultMs ?? 60_000;
    this.banDefaultMs = options.banDefaultMs ?? 120_000;
    this.weightLimit = options.weightLimitPerMinute ?? null;
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** The last reported 1-minute used weight (`X-MBX-USED-WEIGHT-1M`, else the only weight header). */
  get usedWeight(): number | null {
    return this.weights['1m'] ?? Object.values(this.weights)[0] ?? null;
  }

  /** Every `X-MBX-USED-WEIGHT-<interval>` last reported, keyed by lower-case interval (`1m`). */
  get usedWeights(): Readonly<Record<string, number>> {
    return this.weights;
  }

  /** Epoch ms until which requests fail fast, or null when not rate-limited. */
  get retryAt(): number | null {
    return this.hold && this.hold.until > this.now() ? this.hold.until : null;
  }

  /**
   * GET `baseUrl + path?params` and parse JSON. Throws `RateLimitedError` (held, 429, 418) or
   * `RestError` (other HTTP errors, timeout, network, unreadable JSON).
   */
  async getJson<T>(path: string, params: QueryParams = {}, options: RestRequestOptions = {}): Promise<T> {
    const url = this.url(path, params);
    const weight = options.weight ?? 1;
    const now = this.now();
    if (this.hold && this.hold.until > now) {
      this.counters.refused++;
      throw new RateLimitedError(
        this.hold.status,
        this.hold.until,
        url,
        `held after HTTP ${this.hold.status} (${this.hold.detail})`,
      );
    }
    this.checkBudget(url, weight, now);

    this.counters.requests++;
    this.counters.weightSent += weight;
    this.inFlightWeight += weight;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.userAgent) headers['user-agent'] = this.userAgent;
    let status: number | null = null;
    try {
      const res = await this.fetchFn(url, { headers, signal, redirect: 'follow' });
      status = res.status;
      this.lastStatus = status;
      this.recordWeights(res.headers);
      const body = await res.text();
      if (status === 429 || status === 418) throw this.rateLimited(status, res.headers, url, body);
      if (!res.ok) throw httpError(url, status, body);
      try {
        const value = JSON.parse(body) as T;
        this.counters.ok++;
        return value;
      } catch (err) {
        throw new RestError({
          kind: 'parse',
          url,
          status,
          body: snippet(body),
          message: `GET ${url}: HTTP ${status} with a body that is not JSON: ${snippet(body)}`,
          cause: err,
        });
      }
    } catch (err) {
      this.counters.errors++;
      if (err instanceof RestError || err instanceof RateLimitedError) throw err;
      if (timeout.aborted) {
        this.counters.timeouts++;
        throw new RestError({
          kind: 'timeout',
          url,
          status,
          message: `GET ${url}: no ${status === null ? 'response' : 'complete body'} within ${this.timeoutMs} ms`,
          cause: err,
        });
      }
      if (options.signal?.aborted) {
        throw new RestError({ kind: 'aborted', url, status, message: `GET ${url}: aborted`, cause: err });
      }
      throw new RestError({
        kind: 'network',
        url,
        status,
        message: `GET ${url}: ${describeNetworkError(err)}`,
        cause: err,
      });
    } finally {
      this.inFlightWeight -= weight;
    }
  }

  stats(): RestClientStats {
    return {
      ...this.counters,
      usedWeight: this.usedWeight,
      retryAt: this.retryAt,
      lastStatus: this.lastStatus,
    };
  }

  private url(path: string, params: QueryParams): string {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.append(k, String(v));
    const q = query.toString();
    return `${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}${q ? `?${q}` : ''}`;
  }

  private checkBudget(url: string, weight: number, now: number): void {
    if (this.weightLimit === null) return;
    const minute = Math.floor(now / 60_000);
    // Binance's 1-minute window is the calendar minute: a figure from an earlier minute no longer counts.
    const used = minute === this.weightMinute ? (this.weights['1m'] ?? 0) : 0;
    if (used + this.inFlightWeight + weight <= this.weightLimit) return;
    this.counters.refused++;
    const until = (minute + 1) * 60_000;
    throw new RateLimitedError(
      429,
      until,
      url,
      `weight budget: ${used} used + ${this.inFlightWeight} in flight + ${weight} > ${this.weightLimit}/min`,
      true,
    );
  }

  private recordWeights(headers: Headers): void {
    let seen = false;
    headers.forEach((value, name) => {
      const m = WEIGHT_HEADER.exec(name);
      const n = Number(value);
      if (!m || !Number.isFinite(n)) return;
      if (!seen) this.weights = {};
      seen = true;
      this.weights[m[1]!.toLowerCase()] = n;
    });
    if (seen) this.weightMinute = Math.floor(this.now() / 60_000);
  }

  private rateLimited(status: number, headers: Headers, url: string, body: string): RateLimitedError {
    this.counters.rateLimited++;
    if (status === 418) this.counters.bans++;
    const now = this.now();
    const waitMs =
      parseRetryAfter(headers.get('retry-after'), now) ??
      (status === 418 ? this.banDefaultMs : this.rateLimitDefaultMs);
    const exchange = parseExchangeError(body);
    const detail =
      (status === 418 ? 'IP banned' : 'rate limited') +
      (exchange ? `: ${exchange.code} ${exchange.msg}` : body ? `: ${snippet(body)}` : '');
    // A later, shorter Retry-After never shortens a hold already in force.
    const until = Math.max(now + waitMs, this.hold?.until ?? 0);
    this.hold = { until, status, detail };
    return new RateLimitedError(status, until, url, `HTTP ${status} ${detail}`);
  }
}

function httpError(url: string, status: number, body: string): RestError {
  const exchange = parseExchangeError(body);
  const text = exchange ? `${exchange.code} ${exchange.msg}` : body ? snippet(body) : '(empty body)';
  return new RestError({
    kind: 'http',
    url,
    status,
    code: exchange?.code ?? null,
    exchangeMessage: exchange?.msg ?? null,
    body: body ? snippet(body) : null,
    message: `GET ${url}: HTTP ${status}: ${text}`,
  });
}

/** Binance errors: `{"code":-1121,"msg":"Invalid symbol."}`. */
function parseExchangeError(body: string): { code: number; msg: string } | null {
  if (!body.trimStart().startsWith('{')) return null;
  try {
    const v = JSON.parse(body) as { code?: unknown; msg?: unknown };
    if (typeof v.code === 'number' && typeof v.msg === 'string') return { code: v.code, msg: v.msg };
  } catch {
    // Not JSON after all: the caller shows the raw snippet.
  }
  return null;
}

function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat;
}

function describeNetworkError(err: unknown): string {
  // undici wraps the useful part (ECONNREFUSED, ENOTFOUND...) in `cause`.
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const inner = e.cause?.code ?? e.cause?.message;
  return inner ? `${e.message ?? 'fetch failed'} (${inner})` : (e.message ?? String(err));
}
