import { describe, expect, it } from 'vitest';
import { parseHeadlessArgs } from '../../src/main/headless-args';
import { defaultDataDir } from '../../src/main/paths';

describe('headless arguments', () => {
  it('defaults to loopback, and to the stored port setting', () => {
    expect(parseHeadlessArgs([], {})).toEqual({
      port: null, // the stored setting ports.headless applies
      host: '127.0.0.1',
      dataDir: null,
      token: null,
      recoverStore: false,
      demo: false,
      healthAuth: 'open', // load balancers and probes carry no token
      metricsAuth: 'token',
      help: false,
    });
    expect(parseHeadlessArgs(['--demo'], {}).demo).toBe(true);
  });

  it('reads every option, and the token from the environment', () => {
    expect(
      parseHeadlessArgs(
        ['--port', '0', '--host', '::1', '--data-dir', '/tmp/v', '--token', 'abcdefghijklmnop'],
        {},
      ),
    ).toMatchObject({ port: 0, host: '::1', dataDir: '/tmp/v', token: 'abcdefghijklmnop' });
    expect(parseHeadlessArgs([], { VIGIL_TOKEN: 'from-env-0123456789' }).token).toBe('from-env-0123456789');
    expect(parseHeadlessArgs(['--health-auth', 'token', '--metrics-auth', 'open'], {})).toMatchObject({
      healthAuth: 'token',
      metricsAuth: 'open',
    });
  });

  it.each([
    [['--port', 'abc'], /--port must be a number/],
    [['--port', '70000'], /between 0 and 65535/],
    [['--port', '1.5'], /whole number/],
    [['--host', ' '], /--host must not be empty/],
    [['--token', 'short'], /at least 16 characters/],
    [['--token', 'has spaces in it ok?'], /printable ASCII/],
    [['--metrics-auth', 'none'], /--metrics-auth must be open or token/],
    [['--health-auth', ''], /--health-auth must be open or token/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['positional'], /positional/i],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseHeadlessArgs(argv, {})).toThrow(message);
  });
});

describe('default data directory', () => {
  it('follows each platform’s convention', () => {
    expect(defaultDataDir('linux', {}, '/home/t')).toBe('/home/t/.local/share/vigil');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '/data' }, '/home/t')).toBe('/data/vigil');
    expect(defaultDataDir('darwin', {}, '/Users/t')).toBe('/Users/t/Library/Application Support/Vigil');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\t\\AppData\\Roaming' }, 'C:\\Users\\t')).toMatch(
      /Vigil$/,
    );
  });
});
