/**
 * A collector's configuration (one collector per venue-market): which symbols and data types, the
 * book depth, whether to record, and every endpoint, so tests and the demo can point it at the market
 * simulator. Defaults are the live public endpoints: no API keys are needed. One process may also
 * carry several venues (`{ venues: [...] }`, see parseCollectorConfigs); one per venue is the default.
 */
import { z } from 'zod';
import { marketDataTypes, type MarketDataType, type Venue } from './market';

export const collectorVenues = [
  'binance-spot',
  'binance-usdm',
  'okx-spot',
  'okx-swap',
  'deribit',
] as const satisfies readonly Venue[];
export type CollectorVenue = (typeof collectorVenues)[number];

const wsUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^wss?:\/\//.test(u), 'must be a ws:// or wss:// URL');
const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');

const symbol = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9_-]{0,39}$/, 'symbols are upper-case letters, digits, - and _ (e.g. BTCUSDT)');

export const collectorEndpointsSchema = z
  .object({
    /**
     * WebSocket base. Binance spot: the stream host. USD-M: the host whose `/public` carries books.
     * OKX: the host of `/ws/v5/public`. Deribit: the host of `/ws/api/v2`.
     */
    ws: wsUrl,
    /** USD-M only: the host whose `/market` carries trades, mark price and liquidations. */
    wsMarket: wsUrl.optional(),
    rest: httpUrl,
  })
  .strict();

export const collectorConfigSchema = z
  .object({
    venue: z.enum(collectorVenues),
    symbols: z
      .array(symbol)
      .min(1, 'name at least one symbol')
      .max(200, 'at most 200 symbols per collector')
      .refine((s) => new Set(s).size === s.length, 'symbols must not repeat'),
    types: z
      .array(z.enum(marketDataTypes))
      .min(1, 'name at least one data type')
      .refine((t) => new Set(t).size === t.length, 'data types must not repeat'),
    /** Levels of the REST snapshot, and of the book snapshots published on the bus. */
    bookDepth: z.number().int().min(5).max(5000),
    record: z.boolean(),
    /** Days of trades and 1-second candles kept in market/<venue>.db (1-minute candles: 10×). */
    retentionDays: z.number().int().min(1).max(3650),
    endpoints: collectorEndpointsSchema,
    /** Marks the data as coming from the market simulator; the UI says so. */
    simulated: z.boolean(),
    /** Planned reconnect before the exchange's 24 h connection limit. */
    rotateAfterMs: z
      .number()
      .int()
      .min(10_000)
      .max(24 * 3_600_000),
    /** No message for this long on a connection: presumed dead, reconnect. */
    staleAfterMs: z.number().int().min(1_000).max(600_000),
    /** REST polling of open interest and long/short ratio (Binance USD-M), long/short ratio (OKX). */
    pollIntervalMs: z.number().int().min(1_000).max(3_600_000),
    /** Deribit: days of DVOL history (1-minute bars) back-filled at start; 0 for none. */
    dvolHistoryDays: z.number().int().min(0).max(365),
  })
  .strict();

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;
export type CollectorEndpoints = z.infer<typeof collectorEndpointsSchema>;

export const liveEndpoints: Record<CollectorVenue, CollectorEndpoints> = {
  'binance-spot': { ws: 'wss://data-stream.binance.vision', rest: 'https://data-api.binance.vision' },
  'binance-usdm': {
    ws: 'wss://fstream.binance.com',
    wsMarket: 'wss://fstream.binance.com',
    rest: 'https://fapi.binance.com',
  },
  'okx-spot': { ws: 'wss://ws.okx.com:8443', rest: 'https://www.okx.com' },
  'okx-swap': { ws: 'wss://ws.okx.com:8443', rest: 'https://www.okx.com' },
  deribit: { ws: 'wss://www.deribit.com', rest: 'https://www.deribit.com' },
};

const defaultSymbols: Record<CollectorVenue, string[]> = {
  'binance-spot': ['BTCUSDT', 'ETHUSDT'],
  'binance-usdm': ['BTCUSDT', 'ETHUSDT'],
  'okx-spot': ['BTC-USDT', 'ETH-USDT'],
  'okx-swap': ['BTC-USDT-SWAP', 'ETH-USDT-SWAP'],
  deribit: ['BTC-PERPETUAL', 'ETH-PERPETUAL'],
};

/** The data types each venue has (spot markets have no derivatives data; only Deribit has DVOL). */
const venueTypes: Record<CollectorVenue, readonly MarketDataType[]> = {
  'binance-spot': ['trade', 'book', 'top'],
  'binance-usdm': ['trade', 'book', 'top', 'funding', 'oi', 'liquidation', 'lsr'],
  'okx-spot': ['trade', 'book', 'top'],
  'okx-swap': ['trade', 'book', 'top', 'funding', 'oi', 'liquidation', 'lsr'],
  deribit: ['trade', 'book', 'top', 'funding', 'oi', 'liquidation', 'dvol'],
};

/** How each venue spells an instrument, with an example for the error message. */
const symbolShapes: Record<CollectorVenue, { pattern: RegExp; example: string }> = {
  'binance-spot': { pattern: /^[A-Z0-9]+$/, example: 'BTCUSDT' },
  'binance-usdm': { pattern: /^[A-Z0-9_]+$/, example: 'BTCUSDT' },
  'okx-spot': { pattern: /^[A-Z0-9]+-[A-Z0-9]+$/, example: 'BTC-USDT' },
  'okx-swap': { pattern: /^[A-Z0-9]+-[A-Z0-9]+-SWAP$/, example: 'BTC-USDT-SWAP' },
  deribit: { pattern: /^[A-Z0-9_]+-[A-Z0-9]+$/, example: 'BTC-PERPETUAL' },
};

/** OKX's `books` channel: a 400-level snapshot, and nothing deeper. */
export const OKX_BOOK_LEVELS = 400;

/** The snapshot sizes `/fapi/v1/depth` accepts. */
export const usdmDepths = [5, 10, 20, 50, 100, 500, 1000];

export function defaultCollectorConfig(venue: CollectorVenue): CollectorConfig {
  return {
    venue,
    symbols: defaultSymbols[venue],
    types: [...venueTypes[venue]],
    bookDepth: venue.startsWith('okx-') ? OKX_BOOK_LEVELS : 1000,
    record: true,
    retentionDays: 30,
    endpoints: liveEndpoints[venue],
    simulated: false,
    rotateAfterMs: 23 * 3_600_000,
    staleAfterMs: 30_000,
    // Binance publishes the statistics per 5-minute period: polling faster adds nothing.
    pollIntervalMs: 60_000,
    dvolHistoryDays: 7,
  };
}

/** A partial configuration over the venue's defaults; errors name the field. */
export function parseCollectorConfig(
  input: unknown,
): { ok: true; config: CollectorConfig } | { ok: false; path: string[]; error: string } {
  const venue = (input as { venue?: unknown } | null)?.venue;
  if (!collectorVenues.includes(venue as CollectorVenue))
    return { ok: false, path: ['venue'], error: `must be one of ${collectorVenues.join(', ')}` };
  const base = defaultCollectorConfig(venue as CollectorVenue);
  const given = input as Partial<CollectorConfig>;
  // Endpoints merge too: overriding the REST base alone keeps the default stream hosts.
  const merged = { ...base, ...given, endpoints: { ...base.endpoints, ...given.endpoints } };
  const r = collectorConfigSchema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return { ok: false, path: issue.path.map(String), error: issue.message };
  }
  const { venue: v, types, symbols, bookDepth } = r.data;
  const missing = types.filter((t) => !venueTypes[v].includes(t));
  if (missing.length > 0)
    return {
      ok: false,
      path: ['types'],
      error: `${v} has no ${missing.join(', ')} data: use ${venueTypes[v].join(', ')}`,
    };
  const shape = symbolShapes[v];
  const misspelled = symbols.findIndex((s) => !shape.pattern.test(s));
  if (misspelled >= 0)
    return {
      ok: false,
      path: ['symbols', String(misspelled)],
      error: `${symbols[misspelled]} is not an instrument of ${v}: they are spelled like ${shape.example}`,
    };
  if (v.startsWith('okx-') && bookDepth > OKX_BOOK_LEVELS)
    return {
      ok: false,
      path: ['bookDepth'],
      error: `OKX books have at most ${OKX_BOOK_LEVELS} levels`,
    };
  if (r.data.venue === 'binance-usdm' && !usdmDepths.includes(r.data.bookDepth))
    return {
      ok: false,
      path: ['bookDepth'],
      error: `USD-M snapshots come in ${usdmDepths.join(', ')} levels`,
    };
  if (r.data.venue === 'binance-usdm' && !r.data.endpoints.wsMarket)
    return { ok: false, path: ['endpoints', 'wsMarket'], error: 'USD-M needs the /market host too' };
  return { ok: true, config: r.data };
}

/**
 * A collector service's configuration: one venue (the default, a process per venue, so one exchange's
 * trouble stays in its own process), or several in one process, `{ venues: [{ venue, ... }, ...] }`,
 * each entry a venue's configuration as above, which saves a runtime's memory per venue. A venue
 * appears once: its market/<venue>.db has one writer.
 */
export function parseCollectorConfigs(
  input: unknown,
): { ok: true; configs: CollectorConfig[]; grouped: boolean } | { ok: false; path: string[]; error: string } {
  if (!isGroupedCollectorConfig(input)) {
    const r = parseCollectorConfig(input);
    return r.ok ? { ok: true, configs: [r.config], grouped: false } : r;
  }
  const extra = Object.keys(input).find((k) => k !== 'venues');
  if (extra !== undefined)
    return {
      ok: false,
      path: [extra],
      error: 'a grouped collector takes only venues (settings go in each venue)',
    };
  const list = input.venues;
  if (!Array.isArray(list) || list.length === 0)
    return { ok: false, path: ['venues'], error: 'must be a list of at least one venue configuration' };
  if (list.length > collectorVenues.length)
    return { ok: false, path: ['venues'], error: `at most ${collectorVenues.length} venues (one of each)` };
  const configs: CollectorConfig[] = [];
  for (const [i, entry] of list.entries()) {
    const r = parseCollectorConfig(entry);
    if (!r.ok) return { ok: false, path: ['venues', String(i), ...r.path], error: r.error };
    if (configs.some((c) => c.venue === r.config.venue))
      return {
        ok: false,
        path: ['venues', String(i), 'venue'],
        error: `${r.config.venue} appears twice: its market database takes one writer`,
      };
    configs.push(r.config);
  }
  return { ok: true, configs, grouped: true };
}

export function isGroupedCollectorConfig(input: unknown): input is { venues: unknown } {
  return typeof input === 'object' && input !== null && 'venues' in input;
}
