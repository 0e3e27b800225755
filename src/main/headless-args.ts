/** `npm run headless -- [--port N] [--host H] [--data-dir DIR] [--token T] ...`, validated with clear errors. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { defaultSettings } from '../shared/settings';
import { opsAuthModes, type OpsAuthMode } from './server/ops-routes';

const DEFAULT_PORT = defaultSettings().ports.headless;

export interface HeadlessArgs {
  /** null: not given, so the stored setting ports.headless applies. */
  port: number | null;
  host: string;
  dataDir: string | null;
  token: string | null;
  recoverStore: boolean;
  demo: boolean;
  /** Whether GET /health and GET /metrics ask for the token. */
  healthAuth: OpsAuthMode;
  metricsAuth: OpsAuthMode;
  help: boolean;
}

export const HEADLESS_USAGE = `Usage: npm run headless -- [options]

  --port N         TCP port to serve on (default: the ports.headless setting, ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR      address to bind (default 127.0.0.1; anything else exposes Vigil to the network)
  --data-dir DIR   where configuration, history and logs live (default: the user's app-data folder)
  --token T        access token (default: VIGIL_TOKEN, else a new random token printed at start)
  --recover-store  if control.db is corrupt or unreadable, move it aside (kept) and start fresh
  --demo           run the market simulator and point the collectors at it (data is marked simulated;
                   without --data-dir the demo keeps its own data folder, apart from your real one)
  --health-auth M  GET /health: open (default, for load balancers and probes) or token
  --metrics-auth M GET /metrics: token (default; Prometheus sends it as a bearer token) or open, which
                   leaves the bind address as its protection (the ports.health setting adds a listener
                   for both on 127.0.0.1 only)
  -h, --help       show this help`;

const schema = z.object({
  port: z.coerce
    .number({ message: '--port must be a number' })
    .int('--port must be a whole number')
    .min(0, '--port must be between 0 and 65535')
    .max(65535, '--port must be between 0 and 65535')
    .nullable(),
  host: z.string().trim().min(1, '--host must not be empty'),
  dataDir: z.string().trim().min(1, '--data-dir must not be empty').nullable(),
  healthAuth: z.enum(opsAuthModes, { message: `--health-auth must be ${opsAuthModes.join(' or ')}` }),
  metricsAuth: z.enum(opsAuthModes, { message: `--metrics-auth must be ${opsAuthModes.join(' or ')}` }),
  token: z
    .string()
    .min(16, 'the token must be at least 16 characters')
    .regex(/^[\x21-\x7e]+$/, 'the token must be printable ASCII without spaces')
    .nullable(),
});

export class ArgsError extends Error {}

export function parseHeadlessArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): HeadlessArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        token: { type: 'string' },
        'recover-store': { type: 'boolean' },
        demo: { type: 'boolean' },
        'health-auth': { type: 'string' },
        'metrics-auth': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ArgsError((error as Error).message);
  }
  const parsed = schema.safeParse({
    port: values.port ?? null,
    host: values.host ?? '127.0.0.1',
    dataDir: values['data-dir'] ?? null,
    token: values.token ?? env.VIGIL_TOKEN ?? null,
    healthAuth: values['health-auth'] ?? 'open',
    metricsAuth: values['metrics-auth'] ?? 'token',
  });
  if (!parsed.success) throw new ArgsError(parsed.error.issues[0]?.message ?? 'invalid arguments');
  return {
    ...parsed.data,
    recoverStore: values['recover-store'] ?? false,
    demo: values.demo ?? false,
    help: values.help ?? false,
  };
}
