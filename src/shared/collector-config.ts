/**
 * A collector's configuration (one collector per venue-market): which symbols and data types, the
 * book depth, whether to record, and every endpoint, so tests and the demo can point it at the market
 * simulator. Defaults are the live public endpoints: no API keys are needed.
 */
import { z } from 'zod';
import { marketDataTypes, type Venue } from './market';

export const collectorVenues = ['binance-spot', 'binance-usdm'] as const satisfies readonly Venue[];
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
    /** WebSocket base. Spot: the stream host. USD-M: the host whose `/public` carries books. */
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
    /** REST polling of open interest and long/short ratio (USD-M). */
    pollIntervalMs: z.number().int().min(1_000).max(3_600_000),
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
};

const defaultTypes: Record<CollectorVenue, CollectorConfig['types']> = {
  'binance-spot': ['trade', 'book', 'top'],
  'binance-usdm': ['trade', 'book', 'top', 'funding', 'oi', 'liquidation', 'lsr'],
};

/** What a spot market has; funding, open interest, liquidations and long/short are futures data. */
const spotTypes: readonly string[] = ['trade', 'book', 'top'];

/** The snapshot sizes `/fapi/v1/depth` accepts. */
export const usdmDepths = [5, 10, 20, 50, 100, 500, 1000];

export function defaultCollectorConfig(venue: CollectorVenue): CollectorConfig {
  return {
    venue,
    symbols: ['BTCUSDT', 'ETHUSDT'],
    types: defaultTypes[venue],
    bookDepth: 1000,
    record: true,
    retentionDays: 30,
    endpoints: liveEndpoints[venue],
    simulated: false,
    rotateAfterMs: 23 * 3_600_000,
    staleAfterMs: 30_000,
    // Binance publishes the statistics per 5-minute period: polling faster adds nothing.
    pollIntervalMs: 60_000,
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
  const spotless = r.data.types.filter((t) => !spotTypes.includes(t));
  if (r.data.venue === 'binance-spot' && spotless.length > 0)
    return {
      ok: false,
      path: ['types'],
      error: `spot has no ${spotless.join(', ')} (those are futures data): use ${spotTypes.join(', ')}`,
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
