import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  resolveDefinition,
  type ServiceDefinition,
  type ServiceDefinitionInput,
} from '../../shared/service-definition';
import { collectorVenues, type CollectorVenue } from '../../shared/collector-config';
import type { BuiltinProgram } from '../../shared/services';

/** The bundled path of a built-in program (electron-vite writes out/services/<name>/index.js). */
export function builtinScript(servicesDir: string, name: string): string {
  return join(servicesDir, name, 'index.js');
}

/** Where `--demo` runs the market simulator (one port per exchange host; OKX serves spot and swap). */
export const DEMO_PORTS = { 'binance-spot': 7431, 'binance-usdm': 7432, okx: 7433, deribit: 7434 } as const;
export type DemoPorts = Record<keyof typeof DEMO_PORTS, number>;

const descriptions: Record<CollectorVenue, string> = {
  'binance-spot': 'Binance spot market data: trades, order books, top of book',
  'binance-usdm':
    'Binance USD-M futures market data: trades, order books, funding, open interest, liquidations (sampled), long/short ratio',
  'okx-spot': 'OKX spot market data: trades, order books, top of book',
  'okx-swap':
    'OKX perpetual swap market data: trades, order books, funding, open interest, liquidations (sampled), long/short ratio',
  deribit:
    'Deribit perpetuals market data: trades, order books, funding, open interest, liquidations, DVOL volatility index',
};

/** The default trader: paper, on the Binance spot collector's two main symbols, deciding on 1 m candles. */
const TRADER_CONFIG = {
  mode: 'paper',
  venue: 'binance-spot',
  symbols: ['BTCUSDT', 'ETHUSDT'],
  resolution: '1m',
};

/**
 * The programs that ship with Vigil (each a folder of src/services with an index.ts; sdk, bus and
 * sqlite are libraries), with the configuration each reads from VIGIL_CONFIG.
 */
const programs: readonly BuiltinProgram[] = [
  {
    name: 'collector',
    kind: 'collector',
    description:
      'Market data from one exchange market (Binance, OKX or Deribit): trades, order books, top of book and, on derivatives markets, funding, open interest, liquidations; recorded to market/<venue>.db',
    config: {
      required: true,
      description: `venue is required (${collectorVenues.join(', ')}); symbols, types, bookDepth, record, retentionDays and endpoints default to the venue’s (its live public endpoints, no API keys)`,
      example: { venue: 'binance-spot', symbols: ['BTCUSDT', 'ETHUSDT'] },
    },
  },
  {
    name: 'optimizer',
    kind: 'optimizer',
    description:
      'Parameter searches over recorded candles (grid or random, in-sample and out-of-sample), on worker threads at a low OS priority',
    config: {
      required: false,
      description:
        'workers: threads (default: the cores less one, leaving one for trading); priority: OS priority, -20 to 19 (default 19, the lowest; on Linux also the idle scheduling policy)',
      example: {},
    },
  },
  {
    name: 'selfcheck',
    kind: 'custom',
    description:
      'Checks that this machine can run Vigil’s children: runtime, durable writes to the data directory, loopback network, event-loop delay',
    config: null,
  },
  {
    name: 'simulator',
    kind: 'custom',
    description: 'Market simulator: synthetic Binance, OKX and Deribit markets on this machine (demo data)',
    config: {
      required: false,
      description:
        'The ports it serves on 127.0.0.1 (spotPort, usdmPort, okxPort, deribitPort; 0 picks a free one), optionally symbols and a random seed',
      example: { spotPort: 7431, usdmPort: 7432, okxPort: 7433, deribitPort: 7434 },
    },
  },
  {
    name: 'trader',
    kind: 'trader',
    description:
      'Paper trading: runs a strategy on live top of book and trades from the bus, with risk limits, a kill switch and every order and fill kept in trader/<name>.db; started only by a person',
    config: {
      required: false,
      description:
        'mode (paper), venue, symbols, resolution (1s or 1m), strategy { id, params }, equity, costs { feeBps, slippageBps, latencyMs }, allowShort, limits { maxPositionNotional, maxOrderNotional, maxOrdersPerMinute, maxDailyLoss }, staleAfterMs; all have defaults',
      example: TRADER_CONFIG,
    },
  },
];

/** The built-in programs this installation has (bundled into `servicesDir`). */
export function builtinPrograms(servicesDir: string): BuiltinProgram[] {
  return programs.filter((p) => existsSync(builtinScript(servicesDir, p.name)));
}

function descriptionOf(name: string): string {
  return programs.find((p) => p.name === name)!.description;
}

function collector(venue: CollectorVenue, config: Record<string, unknown> = {}): ServiceDefinitionInput {
  return {
    name: venue,
    kind: 'collector',
    description: descriptions[venue],
    program: { type: 'builtin', name: 'collector' },
    config: { venue, ...config },
  };
}

function resolveAll(servicesDir: string, inputs: ServiceDefinitionInput[]): ServiceDefinition[] {
  return inputs
    .filter((i) => i.program.type !== 'builtin' || existsSync(builtinScript(servicesDir, i.program.name)))
    .map((i) => {
      const r = resolveDefinition(i);
      if (!r.ok) throw new Error(`built-in definition ${i.name} is invalid: ${r.error.message}`);
      return r.definition;
    });
}

/** A trader fed by the collector of its venue (started with it, in that order). */
function trader(config: Record<string, unknown>, description: string): ServiceDefinitionInput {
  return {
    name: 'trader',
    kind: 'trader',
    description,
    program: { type: 'builtin', name: 'trader' },
    dependsOn: [String(config.venue)],
    config,
  };
}

/**
 * The services a fresh installation has: the self-check, the optimizer (autostarts: it only works
 * when asked), the seed's five collectors on the live public endpoints (no API keys) and a paper
 * trader (never autostarts: a person starts it).
 */
export function defaultDefinitions(servicesDir: string): ServiceDefinition[] {
  return resolveAll(servicesDir, [
    {
      name: 'selfcheck',
      kind: 'custom',
      description: descriptionOf('selfcheck'),
      program: { type: 'builtin', name: 'selfcheck' },
      stop: { timeoutMs: 5000 },
    },
    {
      name: 'optimizer',
      kind: 'optimizer',
      description: descriptionOf('optimizer'),
      program: { type: 'builtin', name: 'optimizer' },
    },
    ...collectorVenues.map((venue) => collector(venue)),
    trader(
      TRADER_CONFIG,
      'Paper trading on Binance spot BTCUSDT and ETHUSDT (1 m candles, moving average crossover)',
    ),
  ]);
}

/**
 * `--demo`: the market simulator and the collectors pointed at it, marked simulated so every view says
 * so. Written over the same names on each demo start, so a demo never talks to a live exchange.
 */
export function demoDefinitions(servicesDir: string, ports: DemoPorts = DEMO_PORTS): ServiceDefinition[] {
  const at = (port: number) => ({ ws: `ws://127.0.0.1:${port}`, rest: `http://127.0.0.1:${port}` });
  const endpoints: Record<CollectorVenue, Record<string, string>> = {
    'binance-spot': at(ports['binance-spot']),
    'binance-usdm': { ...at(ports['binance-usdm']), wsMarket: at(ports['binance-usdm']).ws },
    'okx-spot': at(ports.okx),
    'okx-swap': at(ports.okx),
    deribit: at(ports.deribit),
  };
  return resolveAll(servicesDir, [
    {
      name: 'simulator',
      kind: 'custom',
      description: descriptionOf('simulator'),
      program: { type: 'builtin', name: 'simulator' },
      autostart: true,
      config: {
        spotPort: ports['binance-spot'],
        usdmPort: ports['binance-usdm'],
        okxPort: ports.okx,
        deribitPort: ports.deribit,
      },
      stop: { timeoutMs: 5000 },
    },
    ...collectorVenues.map((venue) => ({
      ...collector(venue, { simulated: true, endpoints: endpoints[venue] }),
      description: `${descriptions[venue]} (SIMULATED)`,
      dependsOn: ['simulator'],
    })),
    // 1 s candles and short averages: it warms up in half a minute and trades within minutes.
    trader(
      {
        ...TRADER_CONFIG,
        resolution: '1s',
        strategy: { id: 'ma-crossover', params: { fast: 5, slow: 20 } },
      },
      'Paper trading on the simulated Binance spot BTCUSDT and ETHUSDT (1 s candles) (SIMULATED)',
    ),
  ]);
}
