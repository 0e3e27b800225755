/** The `vigil` command line's parsing: commands, options per command, the server URL and the token. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, parseCliArgs, parseServerUrl, parseSince } from '../../src/cli/args';
import { formatBytes, table } from '../../src/cli/format';
import { formatDuration } from '../../src/shared/format';

const NOW = Date.UTC(2025, 0, 10, 12, 0, 0);
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCliArgs(argv, env, NOW);

describe('vigil arguments', () => {
  it('reads each command with its arguments and options', () => {
    expect(parse(['status']).command).toEqual({ name: 'status' });
    expect(parse(['restart', 'okx-spot']).command).toEqual({
      name: 'service',
      action: 'restart',
      service: 'okx-spot',
      confirm: null,
    });
    expect(parse(['start', 'paper-1', '--confirm', 'paper']).command).toEqual({
      name: 'service',
      action: 'start',
      service: 'paper-1',
      confirm: 'paper',
    });
    expect(parse(['stop', 'paper-1']).command).toEqual({
      name: 'service',
      action: 'stop',
      service: 'paper-1',
    });
    expect(parse(['trader', 'paper-1', '--json'])).toMatchObject({
      command: { name: 'trader', service: 'paper-1' },
      json: true,
    });
    expect(parse(['trader']).command).toEqual({ name: 'trader', service: null });
    expect(parse(['logs', 'deribit', '-f', '-n', '20', '--stream', 'err']).command).toEqual({
      name: 'logs',
      service: 'deribit',
      lines: 20,
      stream: 'err',
      follow: true,
    });
    expect(parse(['events', '--since', '2h', '--service', 'a', '--limit', '5']).command).toEqual({
      name: 'events',
      since: NOW - 7_200_000,
      service: 'a',
      limit: 5,
    });
    expect(parse(['config', 'export', '--format', 'json', '-o', 'c.json']).command).toEqual({
      name: 'config-export',
      format: 'json',
      output: 'c.json',
    });
    expect(parse(['config', 'import', '-', '--dry-run']).command).toEqual({
      name: 'config-import',
      file: '-',
      format: null,
      dryRun: true,
    });
    expect(parse(['trade', 'start', '--yes'])).toMatchObject({
      command: { name: 'trade', action: 'start', service: null },
      yes: true,
    });
    expect(parse(['trade', 'stop', 'paper-1']).command).toEqual({
      name: 'trade',
      action: 'stop',
      service: 'paper-1',
    });
    expect(parse(['--json', 'status']).json).toBe(true);
    expect(parse(['--help']).command).toBeNull();
  });

  it.each([
    [[], /name a command/],
    [['frob'], /unknown command "frob"/],
    [['start'], /start needs <service>/],
    [['start', 'a', 'b'], /"b" is extra/],
    [['status', '--follow'], /--follow is not an option of status/],
    [['trade', 'start', '--lines', '3'], /--lines is not an option of trade start/],
    [['trade'], /trade takes start or stop/],
    [['start', 'paper-1', '--confirm', 'yes'], /--confirm must be paper, live; not "yes"/],
    [['stop', 'paper-1', '--confirm', 'paper'], /--confirm is not an option of stop/],
    [['trader', 'a', 'b'], /"b" is extra/],
    [['config', 'show'], /config takes export or import/],
    [['logs', 'a', '-n', '0'], /--lines must be a whole number from 1 to 2000/],
    [['logs', 'a', '--stream', 'stdout'], /--stream must be out, err, vigil/],
    [['events', '--since', 'yesterday'], /--since "yesterday"/],
    [['config', 'export', '--format', 'toml'], /--format must be yaml, json/],
    [['status', '--url', 'ftp://x'], /must be http\(s\):\/\/ or ws\(s\):\/\//],
    [['status', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j, saying what is wrong', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });

  it('finds the server and token in flags, the environment, or the URL the server printed', () => {
    expect(parse(['status'])).toMatchObject({
      wsUrl: 'ws://127.0.0.1:7420/api/ws',
      server: DEFAULT_URL,
      token: null,
    });
    const printed = 'http://127.0.0.1:5555/?token=from-the-url-123456';
    expect(parse(['status'], { VIGIL_URL: printed })).toMatchObject({
      wsUrl: 'ws://127.0.0.1:5555/api/ws',
      server: 'http://127.0.0.1:5555',
      token: 'from-the-url-123456',
    });
    expect(parse(['status'], { VIGIL_URL: printed, VIGIL_TOKEN: 'from-env' }).token).toBe('from-env');
    expect(
      parse(['status', '--token', 'flag', '--url', 'https://vigil.lan'], { VIGIL_TOKEN: 'env' }),
    ).toMatchObject({
      token: 'flag',
      wsUrl: 'wss://vigil.lan/api/ws',
    });
    expect(parseServerUrl('localhost:7000').wsUrl).toBe('ws://localhost:7000/api/ws');
    expect(parseServerUrl('ws://[::1]:7000/api/ws').wsUrl).toBe('ws://[::1]:7000/api/ws');
  });

  it('reads --since as a span back from now or as an ISO date/time', () => {
    expect(parseSince('30s', NOW)).toBe(NOW - 30_000);
    expect(parseSince('15m', NOW)).toBe(NOW - 900_000);
    expect(parseSince('7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseSince('2025-01-10T11:00:00Z', NOW)).toBe(NOW - 3_600_000);
    expect(() => parseSince('2025-13-45', NOW)).toThrow(/ISO/);
  });
});

describe('vigil output', () => {
  it('lines up a box table whatever the cell widths, colour or not', () => {
    const rows = [
      [{ text: 'binance-spot' }, { text: 'running', colour: 'green' as const }],
      [{ text: 'x' }, { text: 'fatal' }],
    ];
    const plain = table(['name', 'state'], rows, { color: false }).split('\n');
    expect(plain).toEqual([
      '┌──────────────┬─────────┐',
      '│ name         │ state   │',
      '├──────────────┼─────────┤',
      '│ binance-spot │ running │',
      '│ x            │ fatal   │',
      '└──────────────┴─────────┘',
    ]);
    const coloured = table(['name', 'state'], rows, { color: true });
    expect(coloured).toContain('\u001b[32m running \u001b[0m');
  });

  it('shortens durations and sizes as pm2 does', () => {
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(245_000)).toBe('4m 05s');
    expect(formatDuration(2 * 3_600_000 + 180_000)).toBe('2h 03m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d 04h');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(94_371_840)).toBe('90.0 MB');
  });
});
