/**
 * simulator: the market simulator as a supervised child (the demo's market). It serves Binance spot
 * and USD-M, OKX and Deribit on 127.0.0.1 and reports connections and message rates. Configuration: VIGIL_CONFIG, JSON,
 * optional: { spotPort?: 7431, usdmPort?: 7432, okxPort?: 7433,
 * deribitPort?: 7434, symbols?: string[], seed?: number,
 * paths?: { BTCUSDT: { path: [{ price, holdMs }...], loop? } } }: scripted prices from the start
 * (price-path.ts); `POST /__sim/path` on any of its ports scripts one later.
 */
import { z } from 'zod';
import { EXIT_CONFIG_ERROR } from '../../shared/child-protocol';
import { startChild } from '../sdk';
import { DEFAULT_SYMBOLS, pricePathSchema, startSimulator, type Simulator } from './simulator';

// 0 picks a free port (tests); the ready message says which.
const port = z.number().int().min(0).max(65_535);
const configSchema = z
  .object({
    spotPort: port.default(7431),
    usdmPort: port.default(7432),
    okxPort: port.default(7433),
    deribitPort: port.default(7434),
    symbols: z
      .array(z.string().regex(/^[A-Z0-9]{2,30}$/, 'symbols are upper case, e.g. BTCUSDT'))
      .min(1, 'name at least one symbol')
      .max(200)
      .optional(),
    seed: z.number().int().optional(),
    paths: z.record(z.string(), pricePathSchema).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const symbols = config.symbols ?? DEFAULT_SYMBOLS;
    for (const symbol of Object.keys(config.paths ?? {})) {
      if (!symbols.includes(symbol))
        ctx.addIssue({
          code: 'custom',
          path: ['paths', symbol],
          message: `not one of the symbols (${symbols.join(', ')})`,
        });
    }
  });

function readConfig(): z.infer<typeof configSchema> {
  const raw = process.env.VIGIL_CONFIG;
  let json: unknown = {};
  if (raw !== undefined && raw.trim() !== '') {
    try {
      json = JSON.parse(raw);
    } catch (error) {
      fail(`VIGIL_CONFIG is not valid JSON: ${String(error)}`);
    }
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'config'}: ${issue.message}`)
      .join('; ');
    fail(`invalid VIGIL_CONFIG: ${detail}`);
  }
  return parsed.data;
}

function fail(message: string): never {
  console.error(`simulator: ${message}`);
  // A wrong configuration does not get better with restarts: the supervisor treats 78 as fatal.
  process.exit(EXIT_CONFIG_ERROR);
}

const config = readConfig();
let sim: Simulator | null = null;
let lastSent = 0;
let lastAt = Date.now();

const child = startChild({
  metrics: (): Record<string, number> => {
    if (!sim) return {};
    const stats = sim.stats();
    const now = Date.now();
    const perSec = ((stats.messagesSent - lastSent) * 1000) / Math.max(1, now - lastAt);
    lastSent = stats.messagesSent;
    lastAt = now;
    return {
      spotConnections: stats.connections['binance-spot'],
      usdmConnections: stats.connections['binance-usdm'],
      okxConnections: stats.connections.okx,
      deribitConnections: stats.connections.deribit,
      messagesSentPerSec: Math.round(perSec),
      closedForRate: stats.closedForRate,
      restRequests: stats.restRequests,
    };
  },
  onStop: async () => {
    await sim?.close();
  },
  onPause: () => sim?.pause(),
  onResume: () => sim?.resume(),
});

try {
  sim = await startSimulator({
    spotPort: config.spotPort,
    usdmPort: config.usdmPort,
    okxPort: config.okxPort,
    deribitPort: config.deribitPort,
    symbols: config.symbols,
    seed: config.seed,
    paths: config.paths,
  });
} catch (error) {
  console.error(`simulator: could not start: ${error instanceof Error ? error.message : String(error)}`);
  // Not a config error: a port still held by a previous instance frees up, so a restart can help.
  await child.stop('start failed', 1);
}
if (sim) {
  console.log(
    `simulator: Binance spot on ${sim.urls['binance-spot'].rest}, USD-M on ${sim.urls['binance-usdm'].rest}, ` +
      `OKX on ${sim.urls['okx-spot'].rest}, Deribit on ${sim.urls.deribit.rest}`,
  );
  child.ready({ simulated: true, urls: sim.urls, symbols: sim.symbols });
}
