/**
 * The `vigil` command line, parsed and checked before anything connects: which command, its
 * arguments, its options, and where the server is. A mistake is a UsageError naming what is wrong.
 */
import { parseArgs } from 'node:util';
import { defaultSettings } from '../shared/settings';
import { TOKEN_PARAM, WS_PATH } from '../shared/wire';

export const DEFAULT_URL = `http://127.0.0.1:${defaultSettings().ports.headless}`;

/** Process exit codes, for scripts. */
export const EXIT = {
  ok: 0,
  /** Vigil refused or failed the command (no such service, a conflict, bad input). */
  failed: 1,
  usage: 2,
  unreachable: 3,
  /** The server refused the token. */
  unauthorized: 4,
  /** A question was not answered yes: nothing was done. */
  declined: 5,
} as const;

export const CLI_USAGE = `Usage: vigil <command> [options]

Commands:
  status                        every service, like \`pm2 list\`, and the overall status
  start <service>               start a service (and what it depends on); a trader needs
                                --confirm paper|live, naming the mode it trades in
  stop <service>                stop a service gracefully
  restart <service>             stop, then start a service  [--confirm paper|live for a trader]
  logs <service>                the last lines of its output  [--lines N] [--stream out|err|vigil] [--follow]
  events                        state transitions, oldest first  [--since T] [--service S] [--limit N]
  config export                 the whole configuration  [--format yaml|json] [--output FILE]
  config import <file|->        replace the configuration; lists the changes and asks first
                                [--format yaml|json] [--dry-run] [--yes]
  trade start|stop [<service>]  start or stop the trader; asks first, naming its mode and symbols  [--yes]
  trader [<service>]            the trader's state: mode, equity, P&L, positions, working orders, blocks

Options:
  --url URL      the Vigil server (default: VIGIL_URL, else ${DEFAULT_URL}); the URL it prints,
                 token included, works as it is
  --token T      access token (default: VIGIL_TOKEN, else the token in the URL)
  --json         machine-readable output: the control API's result as JSON (logs: one line per JSON object)
  -y, --yes      do not ask before trading or importing a configuration
  --confirm M    start/restart: the trader's mode (paper or live), as a person's confirmation
  -f, --follow   logs: keep printing new lines until interrupted
  -n, --lines N  logs: how many lines (default 50, at most 2000)
  --since T      events: since a time: 30s, 15m, 2h, 7d ago, or an ISO date/time
  -h, --help     show this help

Exit codes: 0 done, 1 Vigil refused or failed it, 2 usage error, 3 server unreachable,
4 token refused, 5 not confirmed (nothing done).`;

export class UsageError extends Error {}

export type CliCommand =
  | { name: 'status' }
  | { name: 'service'; action: 'stop'; service: string }
  | { name: 'service'; action: 'start' | 'restart'; service: string; confirm: 'paper' | 'live' | null }
  | { name: 'logs'; service: string; lines: number; stream: 'out' | 'err' | 'vigil' | null; follow: boolean }
  | { name: 'events'; since: number | null; service: string | null; limit: number }
  | { name: 'config-export'; format: 'yaml' | 'json'; output: string | null }
  | { name: 'config-import'; file: string; format: 'yaml' | 'json' | null; dryRun: boolean }
  | { name: 'trade'; action: 'start' | 'stop'; service: string | null }
  | { name: 'trader'; service: string | null };

export interface CliArgs {
  command: CliCommand | null;
  help: boolean;
  json: boolean;
  yes: boolean;
  /** The WebSocket URL of the control API. */
  wsUrl: string;
  /** The server as given, for messages. */
  server: string;
  token: string | null;
}

const options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
  stream: { type: 'string' },
  since: { type: 'string' },
  service: { type: 'string' },
  limit: { type: 'string' },
  format: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'dry-run': { type: 'boolean' },
  confirm: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof options;
const GLOBAL: OptionName[] = ['url', 'token', 'json', 'help'];

/** The options each command takes, besides the global ones. */
const commandOptions: Record<string, OptionName[]> = {
  status: [],
  start: ['confirm'],
  stop: [],
  restart: ['confirm'],
  logs: ['follow', 'lines', 'stream'],
  events: ['since', 'service', 'limit'],
  'config export': ['format', 'output'],
  'config import': ['format', 'dry-run', 'yes'],
  'trade start': ['yes'],
  'trade stop': ['yes'],
  trader: [],
};

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv, now = Date.now()): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const server = values.url ?? env.VIGIL_URL ?? DEFAULT_URL;
  const target = parseServerUrl(server);
  const token = values.token ?? nonEmpty(env.VIGIL_TOKEN) ?? target.token;
  const base = {
    help: values.help ?? false,
    json: values.json ?? false,
    yes: values.yes ?? false,
    wsUrl: target.wsUrl,
    server: target.shown,
    token,
  };
  if (positionals.length === 0) {
    if (base.help) return { ...base, command: null };
    throw new UsageError('name a command');
  }

  const [first, second] = positionals as [string, string | undefined];
  const key = first === 'config' || first === 'trade' ? `${first} ${second ?? ''}`.trim() : first;
  const allowed = commandOptions[key];
  if (!allowed) {
    if (first === 'config') throw new UsageError('config takes export or import');
    if (first === 'trade') throw new UsageError('trade takes start or stop');
    throw new UsageError(`unknown command "${first}"`);
  }
  for (const name of Object.keys(values) as OptionName[]) {
    if (!GLOBAL.includes(name) && !allowed.includes(name))
      throw new UsageError(`--${name} is not an option of ${key}`);
  }
  const args = positionals.slice(key.split(' ').length);
  const expect = (names: string[], optional = 0): void => {
    if (args.length < names.length - optional)
      throw new UsageError(`${key} needs ${names.slice(args.length).join(' ')}`);
    if (args.length > names.length)
      throw new UsageError(
        `${key} takes ${names.length === 0 ? 'no arguments' : names.join(' ')}; "${args[names.length]}" is extra`,
      );
  };

  let command: CliCommand;
  switch (key) {
    case 'status':
      expect([]);
      command = { name: 'status' };
      break;
    case 'stop':
      expect(['<service>']);
      command = { name: 'service', action: key, service: args[0]! };
      break;
    case 'start':
    case 'restart':
      expect(['<service>']);
      command = {
        name: 'service',
        action: key,
        service: args[0]!,
        confirm: oneOf('--confirm', values.confirm, ['paper', 'live'] as const),
      };
      break;
    case 'trader':
      expect(['[<service>]'], 1);
      command = { name: 'trader', service: args[0] ?? null };
      break;
    case 'logs':
      expect(['<service>']);
      command = {
        name: 'logs',
        service: args[0]!,
        lines: wholeNumber('--lines', values.lines, 50, 1, 2000),
        stream: oneOf('--stream', values.stream, ['out', 'err', 'vigil'] as const),
        follow: values.follow ?? false,
      };
      break;
    case 'events':
      expect([]);
      command = {
        name: 'events',
        since: values.since === undefined ? null : parseSince(values.since, now),
        service: values.service ?? null,
        limit: wholeNumber('--limit', values.limit, 50, 1, 10_000),
      };
      break;
    case 'config export':
      expect([]);
      command = {
        name: 'config-export',
        format: oneOf('--format', values.format, ['yaml', 'json'] as const) ?? 'yaml',
        output: values.output ?? null,
      };
      break;
    case 'config import':
      expect(['<file|->']);
      command = {
        name: 'config-import',
        file: args[0]!,
        format: oneOf('--format', values.format, ['yaml', 'json'] as const),
        dryRun: values['dry-run'] ?? false,
      };
      break;
    default: {
      expect(['[<service>]'], 1);
      command = { name: 'trade', action: key === 'trade start' ? 'start' : 'stop', service: args[0] ?? null };
    }
  }
  return { ...base, command };
}

/**
 * The server as an operator has it: the URL `npm run headless` prints (token included), a bare
 * http(s) origin, host:port, or the WebSocket URL itself.
 */
export function parseServerUrl(given: string): { wsUrl: string; shown: string; token: string | null } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `http://${given}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--url "${given}" is not a URL (e.g. ${DEFAULT_URL})`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme) throw new UsageError(`--url "${given}" must be http(s):// or ws(s)://`);
  const token = nonEmpty(url.searchParams.get(TOKEN_PARAM) ?? undefined);
  const shown = `${url.protocol}//${url.host}`;
  return { wsUrl: `${scheme}//${url.host}${WS_PATH}`, shown, token };
}

/** 30s, 15m, 2h, 7d ago; or an ISO date or date-time. */
export function parseSince(text: string, now: number): number {
  const relative = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return Math.max(0, Math.round(now - Number(relative[1]) * unit));
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isFinite(at)) return at;
  }
  throw new UsageError(`--since "${text}" is neither a span (30s, 15m, 2h, 7d) nor an ISO date/time`);
}

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return n;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | null {
  if (raw === undefined) return null;
  if (!(allowed as readonly string[]).includes(raw))
    throw new UsageError(`${name} must be ${allowed.join(', ')}; not "${raw}"`);
  return raw as T;
}

function nonEmpty(s: string | undefined): string | null {
  return s === undefined || s.trim() === '' ? null : s;
}
