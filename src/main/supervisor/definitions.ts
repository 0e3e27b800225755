import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  resolveDefinition,
  type ServiceDefinition,
  type ServiceDefinitionInput,
} from '../../shared/service-definition';
import type { CollectorVenue } from '../../shared/collector-config';

/** The bundled path of a built-in program (electron-vite writes out/services/<name>/index.js). */
export function builtinScript(servicesDir: string, name: string): string {
  return join(servicesDir, name, 'index.js');
}

/** Where `--demo` runs the market simulator (one port per venue, as the exchanges use one host each). */
export const DEMO_PORTS = { 'binance-spot': 7431, 'binance-usdm': 7432 } as const;

const descriptions: Record<CollectorVenue, string> = {
  'binance-spot': 'Binance spot market data: trades, order books, top of book',
  'binance-usdm':
    'Binance USD-M futures market data: trades, order books, funding, open interest, liquidations (sampled), long/short ratio',
};

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

/**
 * The services a fresh installation has: the self-check and one collector per Binance market on the
 * live public endpoints (no API keys). The optimizer and trader join as their issues land.
 */
export function defaultDefinitions(servicesDir: string): ServiceDefinition[] {
  return resolveAll(servicesDir, [
    {
      name: 'selfcheck',
      kind: 'custom',
      description:
        'Checks that this machine can run Vigil’s children: runtime, durable writes to the data directory, loopback network, event-loop delay',
      program: { type: 'builtin', name: 'selfcheck' },
      stop: { timeoutMs: 5000 },
    },
    collector('binance-spot'),
    collector('binance-usdm'),
  ]);
}

/**
 * `--demo`: the market simulator and the collectors pointed at it, marked simulated so every view says
 * so. Written over the same names on each demo start, so a demo never talks to a live exchange.
 */
export function demoDefinitions(
  servicesDir: string,
  ports: { 'binance-spot': number; 'binance-usdm': number } = DEMO_PORTS,
): ServiceDefinition[] {
  const spot = `127.0.0.1:${ports['binance-spot']}`;
  const usdm = `127.0.0.1:${ports['binance-usdm']}`;
  return resolveAll(servicesDir, [
    {
      name: 'simulator',
      kind: 'custom',
      description: 'Market simulator: a synthetic Binance spot and USD-M market on this machine (demo data)',
      program: { type: 'builtin', name: 'simulator' },
      autostart: true,
      config: { spotPort: ports['binance-spot'], usdmPort: ports['binance-usdm'] },
      stop: { timeoutMs: 5000 },
    },
    {
      ...collector('binance-spot', {
        simulated: true,
        endpoints: { ws: `ws://${spot}`, rest: `http://${spot}` },
      }),
      description: `${descriptions['binance-spot']} (SIMULATED)`,
      dependsOn: ['simulator'],
    },
    {
      ...collector('binance-usdm', {
        simulated: true,
        endpoints: { ws: `ws://${usdm}`, wsMarket: `ws://${usdm}`, rest: `http://${usdm}` },
      }),
      description: `${descriptions['binance-usdm']} (SIMULATED)`,
      dependsOn: ['simulator'],
    },
  ]);
}
