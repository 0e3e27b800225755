import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceKind, ServiceProgram } from '../../shared/services';

export interface ServiceDefinition {
  name: string;
  kind: ServiceKind;
  description: string;
  program: ServiceProgram;
  autostart: boolean;
  /** How long a graceful stop may take before the process is killed. */
  stopTimeoutMs: number;
}

/** The bundled path of a built-in program (electron-vite writes out/services/<name>/index.js). */
export function builtinScript(servicesDir: string, name: string): string {
  return join(servicesDir, name, 'index.js');
}

/**
 * The services a fresh installation has. The collectors, optimizer and trader join this list as their
 * issues land; until then the only built-in program is the self-check.
 */
export function defaultDefinitions(servicesDir: string): ServiceDefinition[] {
  const defs: ServiceDefinition[] = [
    {
      name: 'selfcheck',
      kind: 'custom',
      description:
        'Checks that this machine can run Vigil’s children: runtime, durable writes to the data directory, loopback network, event-loop delay',
      program: { type: 'builtin', name: 'selfcheck' },
      autostart: false,
      stopTimeoutMs: 5000,
    },
  ];
  return defs.filter(
    (d) => d.program.type !== 'builtin' || existsSync(builtinScript(servicesDir, d.program.name)),
  );
}
