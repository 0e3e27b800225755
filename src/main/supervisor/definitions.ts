import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveDefinition, type ServiceDefinition } from '../../shared/service-definition';

/** The bundled path of a built-in program (electron-vite writes out/services/<name>/index.js). */
export function builtinScript(servicesDir: string, name: string): string {
  return join(servicesDir, name, 'index.js');
}

/**
 * The services a fresh installation has. The collectors, optimizer and trader join this list as their
 * issues land; until then the only built-in program is the self-check.
 */
export function defaultDefinitions(servicesDir: string): ServiceDefinition[] {
  const inputs = [
    {
      name: 'selfcheck',
      kind: 'custom' as const,
      description:
        'Checks that this machine can run Vigil’s children: runtime, durable writes to the data directory, loopback network, event-loop delay',
      program: { type: 'builtin' as const, name: 'selfcheck' },
      stop: { timeoutMs: 5000 },
    },
  ];
  return inputs
    .filter((i) => existsSync(builtinScript(servicesDir, i.program.name)))
    .map((i) => {
      const r = resolveDefinition(i);
      if (!r.ok) throw new Error(`built-in definition ${i.name} is invalid: ${r.error.message}`);
      return r.definition;
    });
}
