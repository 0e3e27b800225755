/** The configuration as a document: export, parse (with every kind of bad input) and the dry-run diff. */
import { describe, expect, it } from 'vitest';
import {
  CONFIG_VERSION,
  diffConfig,
  exportConfig,
  MAX_CONFIG_BYTES,
  parseConfig,
  type ConfigFormat,
  type VigilConfig,
} from '../../src/main/store/config-transfer';
import {
  COLLECTOR_STEPS_MS,
  resolveDefinition,
  rolePreset,
  type ServiceDefinition,
  type ServiceDefinitionInput,
} from '../../src/shared/service-definition';
import { defaultSettings, type Settings } from '../../src/shared/settings';

function service(input: ServiceDefinitionInput): ServiceDefinition {
  const r = resolveDefinition(input);
  if (!r.ok) throw new Error(`test definition ${input.name} is invalid: ${r.error.message}`);
  return r.definition;
}

const builtin = (name: string) => ({ type: 'builtin' as const, name });

/** Every kind of service, and the awkward values a serializer can get wrong. */
function fullConfig(): VigilConfig {
  return {
    version: 1,
    services: [
      service({
        name: 'collector-okx',
        kind: 'collector',
        program: builtin('collector-okx'),
        description: 'OKX trades & books: "spot" and swaps — ünïcødé ✓',
        env: {
          OKX_REGION: 'eu',
          EMPTY: '',
          LOOKS_BOOLEAN: 'yes',
          LOOKS_NUMBER: '0123',
          LOOKS_NULL: 'null',
          MULTI_LINE: 'first\nsecond\n',
          HASH: '# not a comment',
          COLON: 'key: value',
          QUOTES: `it's "quoted"`,
          LEADING_SPACE: '  padded  ',
          TAB: 'a\tb',
          OCTAL_IN_YAML_1_1: '0o17',
          SWITCH: 'on',
          LONG: 'word '.repeat(60).trim(),
        },
        memory: { softBytes: 512 * 1024 * 1024, hardBytes: 8 * 1024 * 1024 * 1024, hardSamples: 5 },
        probe: {
          url: 'http://127.0.0.1:9100/health',
          intervalMs: 5000,
          timeoutMs: 1000,
          failureThreshold: 3,
        },
      }),
      service({
        name: 'collector-binance',
        kind: 'collector',
        program: builtin('collector-binance'),
        description:
          `Binance spot and futures, ${'a long description that the YAML writer folds; '.repeat(8)}`.trim(),
      }),
      service({
        name: 'optimizer',
        kind: 'optimizer',
        program: {
          type: 'command',
          command: '/opt/quant/bin/optimize',
          args: ['--grid', 'fine', '--threads=4', '', 'a,b', '[x]', '{y}', '#z', 'k: v'],
        },
        cwd: '/opt/quant',
        dependsOn: ['collector-okx', 'collector-binance'],
        readiness: { type: 'http', url: 'http://localhost:8123/ready', timeoutMs: 60_000, intervalMs: 500 },
        restart: {
          policy: 'always',
          backoff: { type: 'steps', stepsMs: [0, 1000, 10_000] },
          noRestartExitCodes: [78],
        },
        stop: { signal: 'SIGINT' },
      }),
      service({
        name: 'trader',
        kind: 'trader',
        program: builtin('trader'),
        dependsOn: ['optimizer'],
        heartbeat: { intervalMs: 2000, timeoutMs: 10_000 },
        memory: { hardBytes: 2 * 1024 * 1024 * 1024 },
        stop: { timeoutMs: 120_000 },
      }),
      service({
        name: 'tick.archiver',
        kind: 'custom',
        program: { type: 'command', command: 'archiver', args: [] },
        readiness: { type: 'uptime', uptimeMs: 3000 },
        autostart: true,
        restart: {
          successExitCodes: [0, 3],
          crashLoop: { maxFailures: 10, windowMs: 3_600_000, action: 'fatal' },
        },
      }),
    ],
    settings: {
      retention: { rawHours: 72, minuteDays: 90, hourDays: 730 },
      theme: 'system',
      ports: { headless: 9420, health: 9421 },
      history: { sampleIntervalMs: 5000 },
      bus: { backend: 'nats', natsUrl: 'nats://127.0.0.1:4222' },
      desktop: { closeToTray: false, startAtLogin: true },
    },
  };
}

function emptyConfig(): VigilConfig {
  return { version: 1, services: [], settings: defaultSettings() };
}

/** The error of a document that must be refused; parseConfig must answer, never throw. */
function refused(text: string, format?: ConfigFormat) {
  const r = parseConfig(text, format);
  if (r.ok) throw new Error(`expected the document to be refused:\n${text.slice(0, 400)}`);
  expect(r.error.code).toBe('invalid_input');
  return r.error;
}

function parsed(text: string, format?: ConfigFormat): VigilConfig {
  const r = parseConfig(text, format);
  if (!r.ok) throw new Error(`expected the document to parse: ${r.error.message}`);
  return r.config;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);
const withServices = (services: unknown[], extra: Record<string, unknown> = {}) =>
  json({ version: 1, services, ...extra });
const collector = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'collector',
  program: builtin(name),
  ...extra,
});

describe('export → parse round trip', () => {
  it.each(['json', 'yaml'] as const)('%s gives back the original config', (format) => {
    const config = fullConfig();
    const text = exportConfig(config, format);
    expect(parsed(text)).toEqual(config); // format sniffed
    expect(parsed(text, format)).toEqual(config);
  });

  it.each(['json', 'yaml'] as const)('%s round-trips an empty config and the defaults', (format) => {
    expect(parsed(exportConfig(emptyConfig(), format))).toEqual(emptyConfig());
  });

  it('JSON is pretty-printed with the version first', () => {
    const text = exportConfig(fullConfig(), 'json');
    expect(text.startsWith('{\n  "version": 1,\n  "services": [\n')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('YAML starts with a comment naming what it is and its config version, and has no anchors', () => {
    const text = exportConfig(fullConfig(), 'yaml');
    expect(text).toMatch(/^# Vigil configuration \(config version 1\)/);
    expect(text).toMatch(/\nversion: 1\nservices:\n/);
    expect(text).not.toMatch(/[&*]\w+\s*$/m);
    // The role presets share one backoff object between collectors: still written out in full.
    expect(text.match(/stepsMs:/g)?.length).toBe(3);
  });

  it('the key order is stable: the same config built in another order exports identically', () => {
    const config = fullConfig();
    const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
    const shuffled: VigilConfig = {
      settings: reversed(config.settings) as Settings,
      services: config.services.map(
        (s) => ({ ...reversed(s), env: reversed(s.env), restart: reversed(s.restart) }) as ServiceDefinition,
      ),
      version: 1,
    };
    for (const format of ['json', 'yaml'] as const) {
      expect(exportConfig(shuffled, format)).toBe(exportConfig(config, format));
    }
    // Schema order, not alphabetical: a service reads name, kind, description, program, ...
    const first = JSON.parse(exportConfig(config, 'json')).services[0];
    expect(Object.keys(first).slice(0, 4)).toEqual(['name', 'kind', 'description', 'program']);
    expect(Object.keys(first.env)).toEqual([...Object.keys(first.env)].sort());
  });
});

describe('parsing hand-written documents', () => {
  it('resolves YAML inputs (name, kind, program) against the role presets', () => {
    const text = [
      '# my stack',
      'version: 1',
      'services:',
      '  - name: collector-okx',
      '    kind: collector',
      '    program: { type: builtin, name: collector-okx }',
      '  - name: backtest',
      '    kind: optimizer',
      '    program:',
      '      type: command',
      '      command: python3',
      '      args: [backtest.py, --fast]',
      '    dependsOn: [collector-okx]',
      '    restart:',
      '      policy: never',
      '  - name: trader',
      '    kind: trader',
      '    program: { type: builtin, name: trader }',
      '',
    ].join('\n');
    const config = parsed(text);
    expect(config.settings).toEqual(defaultSettings());
    const [okx, backtest, trader] = config.services;
    expect(okx).toEqual(
      service({ name: 'collector-okx', kind: 'collector', program: builtin('collector-okx') }),
    );
    expect(okx?.autostart).toBe(true);
    expect(okx?.restart.backoff).toEqual({ type: 'steps', stepsMs: COLLECTOR_STEPS_MS });
    expect(backtest).toMatchObject({
      protocol: 'none',
      readiness: { type: 'uptime' },
      heartbeat: null,
      dependsOn: ['collector-okx'],
      restart: { ...rolePreset('optimizer').restart, policy: 'never' },
      program: { type: 'command', command: 'python3', args: ['backtest.py', '--fast'] },
    });
    expect(trader).toMatchObject({ autostart: false, restart: { crashLoop: { action: 'fatal' } } });
  });

  it('fills settings that are left out or partial from the defaults', () => {
    const config = parsed(
      'version: 1\nservices: []\nsettings:\n  theme: light\n  retention: { rawHours: 12 }\n',
    );
    expect(config.settings).toEqual({
      ...defaultSettings(),
      theme: 'light',
      retention: { ...defaultSettings().retention, rawHours: 12 },
    });
  });

  it('accepts a few anchors, aliases and merge keys', () => {
    const text = [
      'version: 1',
      'x-shared: &restart { policy: never }',
      'services:',
      '  - name: a',
      '    kind: custom',
      '    program: { type: command, command: a }',
      '    restart: *restart',
      '  - name: b',
      '    kind: custom',
      '    program: { type: command, command: b }',
      '    restart: { <<: *restart, minUptimeMs: 100 }',
    ].join('\n');
    // x-shared is not a config field: the anchor has to live somewhere valid.
    expect(refused(text).message).toBe(
      'x-shared: unknown field (a config has version, services and settings)',
    );
    const valid = text
      .replace('x-shared: &restart { policy: never }\n', '')
      .replace('restart: *restart', 'restart: &restart { policy: never }');
    const [a, b] = parsed(valid).services;
    expect(a?.restart.policy).toBe('never');
    expect(b?.restart).toMatchObject({ policy: 'never', minUptimeMs: 100 });
  });

  it('reads JSON with a byte-order mark and YAML with CRLF line ends', () => {
    expect(parsed(`\uFEFF${exportConfig(fullConfig(), 'json')}`)).toEqual(fullConfig());
    expect(parsed(exportConfig(fullConfig(), 'yaml').replace(/\n/g, '\r\n'))).toEqual(fullConfig());
  });

  it('accepts JSON given as YAML (YAML is a superset) when the format says so', () => {
    expect(parsed(exportConfig(fullConfig(), 'json'), 'yaml')).toEqual(fullConfig());
  });
});

describe('refusing bad documents', () => {
  it('JSON syntax errors give line and column', () => {
    const trailingComma = '{\n  "version": 1,\n  "services": [\n    { "name": "a", }\n  ]\n}';
    expect(refused(trailingComma).message).toBe(
      "line 4, column 20: expected a property name in double quotes, found '}' (JSON allows no trailing comma)",
    );
    const missingComma = '{\n  "version": 1\n  "services": []\n}';
    expect(refused(missingComma).message).toBe(`line 3, column 3: expected ',' or '}', found '"'`);
    expect(refused('{\n  "version": tru\n}').message).toBe(
      "line 2, column 14: expected a value, found 'tru'",
    );
    expect(refused('{ "version": 1, "services": [').message).toMatch(
      /^line 1, column 30: the document ends too early/,
    );
    expect(refused('{ "a": "one\ntwo" }').message).toMatch(/^line 1, column 12: a string cannot span lines/);
    expect(refused('{ "a": "\\x" }').message).toMatch(/^line 1, column 9: \\x is not a JSON escape/);
    expect(refused('{ "a": 1 } x').message).toBe(
      "line 1, column 12: unexpected 'x' after the end of the document",
    );
    expect(refused("{ 'version': 1 }").message).toMatch(
      /^line 1, column 3: expected a property name in double quotes/,
    );
    // CRLF: columns count from the line start, not from the \r.
    expect(refused('{\r\n  "version": 1,\r\n  }').message).toMatch(/^line 3, column 3: /);
  });

  it('YAML syntax errors give line and column', () => {
    const badIndent = 'version: 1\nservices:\n  - name: a\n    kind: collector\n   program: x\n';
    expect(refused(badIndent).message).toMatch(/^line 5, column \d+: /);
    const unclosed = 'version: 1\nservices: [\n  { name: a }\nsettings: {}\n';
    expect(refused(unclosed).message).toMatch(/^line \d+, column \d+: /);
    const duplicateKey = 'version: 1\nservices: []\nversion: 1\n';
    expect(refused(duplicateKey).message).toMatch(/^line 3, column 1: .*unique/i);
    const twoDocuments = 'version: 1\nservices: []\n---\nversion: 1\n';
    expect(refused(twoDocuments).message).toMatch(/^line 3, column 1: /);
  });

  it('JSON text given as format json must be JSON', () => {
    expect(refused('version: 1\nservices: []\n', 'json').message).toBe(
      "line 1, column 1: expected a value, found 'version'",
    );
  });

  it('wrong types and values are reported with their path', () => {
    const e = refused(
      withServices([collector('a'), collector('b'), collector('c', { restart: { policy: 'sometimes' } })]),
    );
    expect(e.field).toBe('services.2.restart.policy');
    expect(e.message).toMatch(/^services\.2\.restart\.policy: Invalid option: expected one of/);
    expect(refused(withServices([collector('a', { memory: { softBytes: 'lots' } })])).message).toMatch(
      /^services\.0\.memory\.softBytes: Invalid input: expected number, received string$/,
    );
    expect(refused(withServices([collector('a', { colour: 'red' })]))).toMatchObject({
      field: 'services.0.colour',
      message: 'services.0.colour: unknown field',
    });
    expect(refused(withServices([{ name: 'a', kind: 'collector' }])).message).toBe(
      'services.0.program: is required',
    );
    expect(refused(withServices([collector('Bad Name')])).field).toBe('services.0.name');
    expect(refused(withServices(['a'])).message).toMatch(/^services\.0: Invalid input: expected object/);
    expect(refused(withServices([collector('a', { restart: { backoff: { type: 'linear' } } })])).field).toBe(
      'services.0.restart.backoff.type',
    );
  });

  it('rules inside one service (from resolveDefinition) come with their path', () => {
    const trader = { name: 't', kind: 'trader', program: builtin('trader'), autostart: true };
    expect(refused(withServices([collector('a'), trader]))).toEqual({
      code: 'invalid_input',
      message: 'services.1.autostart: a trader never autostarts: a person starts it',
      field: 'services.1.autostart',
    });
    expect(refused(withServices([collector('a', { dependsOn: ['a'] })])).message).toBe(
      'services.0.dependsOn: a service cannot depend on itself',
    );
  });

  it('lists every problem, one a line, the field being the first', () => {
    const e = refused(
      withServices(
        [
          collector('a', { autostart: 'yes' }),
          collector('b'),
          collector('c', { memory: { hardSamples: 0 } }),
        ],
        {
          settings: { theme: 'neon' },
        },
      ),
    );
    expect(e.field).toBe('services.0.autostart');
    expect(e.message.split('\n')).toEqual([
      expect.stringMatching(/^services\.0\.autostart: /),
      expect.stringMatching(/^services\.2\.memory\.hardSamples: /),
      expect.stringMatching(/^settings\.theme: /),
    ]);
  });

  it('caps the list of problems', () => {
    const bad = Array.from({ length: 30 }, (_, i) => collector(`c${i}`, { autostart: 'no' }));
    const lines = refused(withServices(bad)).message.split('\n');
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('… and 20 more problems');
  });

  it('duplicate service names are refused', () => {
    expect(refused(withServices([collector('a'), collector('b'), collector('a')]))).toEqual({
      code: 'invalid_input',
      message: 'services.2.name: "a" is already the name of services.0',
      field: 'services.2.name',
    });
  });

  it('a dependency on an unknown service is refused; one on an invalid service is not called unknown', () => {
    expect(refused(withServices([collector('a', { dependsOn: ['ghost'] })]))).toEqual({
      code: 'invalid_input',
      message: 'services.0.dependsOn.0: no service named "ghost"',
      field: 'services.0.dependsOn.0',
    });
    const e = refused(withServices([collector('a', { autostart: 1 }), collector('b', { dependsOn: ['a'] })]));
    expect(e.message).toBe('services.0.autostart: Invalid input: expected boolean, received number');
  });

  it('dependency cycles are refused, naming the cycle', () => {
    const e = refused(
      withServices([
        collector('a', { dependsOn: ['b'] }),
        collector('b', { dependsOn: ['c'] }),
        collector('c', { dependsOn: ['a'] }),
        collector('d', { dependsOn: ['a'] }),
      ]),
    );
    expect(e).toEqual({
      code: 'invalid_input',
      message: 'services.2.dependsOn.0: a dependency cycle: a → b → c → a',
      field: 'services.2.dependsOn.0',
    });
    // A diamond is not a cycle.
    parsed(
      withServices([
        collector('base'),
        collector('left', { dependsOn: ['base'] }),
        collector('right', { dependsOn: ['base'] }),
        collector('top', { dependsOn: ['left', 'right'] }),
      ]),
    );
  });

  it('a long dependency chain is checked without exhausting the stack, and a long cycle is shortened', () => {
    const chain = Array.from({ length: 5000 }, (_, i) =>
      collector(`s${i}`, i === 0 ? {} : { dependsOn: [`s${i - 1}`] }),
    );
    expect(parsed(withServices(chain)).services).toHaveLength(5000);
    chain[0] = collector('s0', { dependsOn: ['s4999'] });
    expect(refused(withServices(chain))).toEqual({
      code: 'invalid_input',
      message:
        'services.1.dependsOn.0: a dependency cycle of 5000 services: s0 → s4999 → s4998 → s4997 → … → s3 → s2 → s1 → s0',
      field: 'services.1.dependsOn.0',
    });
  });

  it('a document from a newer config version is refused clearly, even with fields this Vigil lacks', () => {
    const e = refused(json({ version: 2, services: [], settings: {}, plugins: ['x'] }));
    expect(e).toEqual({
      code: 'invalid_input',
      message:
        'version: this document is config version 2, from a newer Vigil; this Vigil reads config version 1. Update Vigil to import it.',
      field: 'version',
    });
    expect(refused('version: 7\nservices: []\n').field).toBe('version');
  });

  it('a missing or malformed version is refused', () => {
    expect(refused(json({ services: [] })).message).toBe(
      'version: is required (this Vigil writes config version 1)',
    );
    for (const version of ['1', 0, 1.5, null, -1]) {
      expect(refused(json({ version, services: [] })).message).toBe(
        'version: must be 1, the Vigil config version',
      );
    }
  });

  it('the document shape: a mapping with version and services', () => {
    expect(refused('[1, 2, 3]').message).toBe(
      'the document must be a mapping with version, services and settings, not a list',
    );
    expect(refused('[]', 'json').message).toMatch(/not a list$/);
    expect(refused('hello').message).toMatch(/not a string$/);
    expect(refused('42').message).toMatch(/not a number$/);
    expect(refused(json({ version: 1 }))).toMatchObject({
      field: 'services',
      message: 'services: is required (it may be an empty list)',
    });
    expect(refused(json({ version: 1, services: {} })).message).toBe('services: must be a list');
    expect(refused(json({ version: 1, services: [], extra: true })).field).toBe('extra');
    expect(refused(json({ version: 1, services: [], settings: null })).field).toBe('settings');
  });

  it('settings are validated with their paths, including the rules between fields', () => {
    expect(refused(withServices([], { settings: { retention: { rawHours: 500 } } }))).toMatchObject({
      field: 'settings.retention.rawHours',
      message: 'settings.retention.rawHours: must be at most 168 hours',
    });
    expect(
      refused(withServices([], { settings: { retention: { minuteDays: 30, hourDays: 7 } } })).field,
    ).toBe('settings.retention.hourDays');
    expect(refused(withServices([], { settings: { ports: { admin: 1 } } })).message).toBe(
      'settings.ports.admin: unknown field',
    );
  });

  it.each([
    ['nothing', ''],
    ['whitespace', '  \n\t\n'],
    ['a byte-order mark', '\uFEFF'],
    ['only a comment', '# nothing here\n'],
    ['an empty YAML document', '---\n'],
    ['null', 'null'],
  ])('an empty document (%s) is refused', (_, text) => {
    expect(refused(text).message).toBe('the document is empty');
  });

  it('a document over 2 MiB is refused before parsing, counting bytes not characters', () => {
    expect(
      refused(`{"version": 1, "services": [], "pad": "${'x'.repeat(MAX_CONFIG_BYTES)}"}`).message,
    ).toMatch(/^the document is 2097\d{3} bytes; the limit is 2 MiB \(2097152 bytes\)$/);
    const multiByte = `# ${'é'.repeat(MAX_CONFIG_BYTES / 2)}\nversion: 1\nservices: []\n`;
    expect(multiByte.length).toBeLessThan(MAX_CONFIG_BYTES);
    expect(refused(multiByte).message).toMatch(/the limit is 2 MiB/);
  });

  it('a YAML alias bomb is refused, not expanded', () => {
    const lines = ['version: 1', 'services: []', 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const started = Date.now();
    expect(refused(lines.join('\n')).message).toMatch(/expands its aliases too far .* resource exhaustion/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('deep YAML nesting is refused before the composer recurses into it, quickly', () => {
    const tooDeep = /^line \d+, column \d+: the document nests deeper than 64 levels/;
    const started = Date.now();
    expect(refused('['.repeat(MAX_CONFIG_BYTES - 1)).message).toMatch(/^line 1, column 64: .*deeper than 64/);
    expect(refused(`${'- '.repeat(5_000)}x`).message).toMatch(tooDeep);
    expect(refused(`${'{a: '.repeat(100_000)}`, 'yaml').message).toMatch(tooDeep);
    const indented = ['a:', ...Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i + 1)}k:`)].join('\n');
    expect(refused(indented).message).toMatch(/^line 64, column 65: .*deeper than 64/);
    expect(refused(`version: 1\nservices: []\nx: ${'? '.repeat(100)}`).message).toMatch(tooDeep);
    expect(Date.now() - started).toBeLessThan(2000);
    // Within the limit the document is read (and refused for its content, not its depth).
    expect(refused(`version: 1\nservices: []\nx: ${'['.repeat(60)}${']'.repeat(60)}`).message).toMatch(
      /^x: unknown field/,
    );
  });

  it('deep JSON and other hostile input get an answer, never an exception', () => {
    const inputs: [string, ConfigFormat?][] = [
      [`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`],
      [`${'['.repeat(500_000)}${']'.repeat(500_000)}`, 'json'],
      ['['.repeat(200_000), 'json'],
      ['{"version": 1, "services": [], "__proto__": {"polluted": true}}'],
      ['version: 1\nservices: !!binary aGVsbG8=\n'],
      ['version: 1\nservices: [*missing]\n'],
      ['version: 1\nservices: !!js/function "function () {}"\n'],
      ['\u0000\u0001\u0002'],
      [
        '{"version": 1, "services": [{"name": "a", "kind": "collector", "program": {"type": "builtin", "name": "a"}, "env": {"__proto__": "x"}}]}',
      ],
    ];
    for (const [text, format] of inputs) {
      expect(() => parseConfig(text, format)).not.toThrow();
    }
    for (const [text, format] of inputs.slice(0, -1)) expect(parseConfig(text, format).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parseConfig(42 as unknown as string)).toMatchObject({
      ok: false,
      error: { message: 'the document must be text' },
    });
  });
});

describe('diffConfig', () => {
  it('is empty for identical configs, even as separate objects in another key order', () => {
    const config = fullConfig();
    expect(diffConfig(config, config)).toEqual([]);
    expect(diffConfig(config, parsed(exportConfig(config, 'yaml')))).toEqual([]);
    expect(diffConfig(emptyConfig(), emptyConfig())).toEqual([]);
  });

  it('lists added and removed services by name', () => {
    const current = fullConfig();
    const incoming = fullConfig();
    const removed = incoming.services.splice(1, 1)[0]!; // collector-binance
    const added = service({
      name: 'collector-bybit',
      kind: 'collector',
      program: builtin('collector-bybit'),
    });
    incoming.services.push(added);
    expect(diffConfig(current, incoming)).toEqual([
      { kind: 'remove', path: 'services.collector-binance', before: removed },
      { kind: 'add', path: 'services.collector-bybit', after: added },
    ]);
  });

  it('gives deep paths for changed fields', () => {
    const current = fullConfig();
    const incoming = fullConfig();
    const okx = incoming.services[0]!;
    okx.restart = { ...okx.restart, backoff: { type: 'steps', stepsMs: [0, 5000, 60_000] } };
    okx.env = { ...okx.env, NEW_VAR: '1' };
    delete okx.env.EMPTY;
    okx.description = 'OKX';
    const optimizer = incoming.services[2]!;
    optimizer.restart = { ...optimizer.restart, noRestartExitCodes: [78, 79] };
    optimizer.memory = { ...optimizer.memory, hardBytes: 1024 };
    incoming.settings = { ...incoming.settings, retention: { ...incoming.settings.retention, rawHours: 48 } };

    expect(diffConfig(current, incoming)).toEqual([
      {
        kind: 'change',
        path: 'services.collector-okx.description',
        before: current.services[0]!.description,
        after: 'OKX',
      },
      { kind: 'remove', path: 'services.collector-okx.env.EMPTY', before: '' },
      { kind: 'add', path: 'services.collector-okx.env.NEW_VAR', after: '1' },
      {
        kind: 'change',
        path: 'services.collector-okx.restart.backoff.stepsMs',
        before: COLLECTOR_STEPS_MS,
        after: [0, 5000, 60_000],
      },
      {
        kind: 'change',
        path: 'services.optimizer.restart.noRestartExitCodes',
        before: [78],
        after: [78, 79],
      },
      { kind: 'change', path: 'services.optimizer.memory.hardBytes', before: null, after: 1024 },
      { kind: 'change', path: 'settings.retention.rawHours', before: 72, after: 48 },
    ]);
  });

  it('reports a changed leaf of an exponential backoff by its full path', () => {
    const current = fullConfig();
    const incoming = fullConfig();
    const trader = incoming.services[3]!;
    trader.restart = {
      ...trader.restart,
      backoff: { type: 'exponential', initialMs: 1000, factor: 2, capMs: 120_000, jitter: 0.2 },
    };
    expect(diffConfig(current, incoming)).toEqual([
      { kind: 'change', path: 'services.trader.restart.backoff.capMs', before: 60_000, after: 120_000 },
    ]);
  });

  it('a change of variant (steps → exponential, null → probe) is one change, not a pile of fields', () => {
    const current = fullConfig();
    const incoming = fullConfig();
    const binance = incoming.services[1]!;
    const exponential = { type: 'exponential' as const, initialMs: 500, factor: 3, capMs: 30_000, jitter: 0 };
    binance.restart = { ...binance.restart, backoff: exponential };
    const probe = {
      url: 'http://127.0.0.1:9200/health',
      intervalMs: 1000,
      timeoutMs: 500,
      failureThreshold: 2,
    };
    binance.probe = probe;
    expect(diffConfig(current, incoming)).toEqual([
      {
        kind: 'change',
        path: 'services.collector-binance.restart.backoff',
        before: { type: 'steps', stepsMs: COLLECTOR_STEPS_MS },
        after: exponential,
      },
      { kind: 'change', path: 'services.collector-binance.probe', before: null, after: probe },
    ]);
  });

  it('reports a reorder once, over the services on both sides', () => {
    const current = fullConfig();
    const incoming = fullConfig();
    incoming.services.reverse();
    expect(diffConfig(current, incoming)).toEqual([
      {
        kind: 'change',
        path: 'services (order)',
        before: ['collector-okx', 'collector-binance', 'optimizer', 'trader', 'tick.archiver'],
        after: ['tick.archiver', 'trader', 'optimizer', 'collector-binance', 'collector-okx'],
      },
    ]);
    // Adding or removing a service alone is not a reorder.
    const fewer = fullConfig();
    fewer.services.shift();
    expect(diffConfig(current, fewer).map((c) => c.path)).toEqual(['services.collector-okx']);
  });

  it('works on a parsed import against the current config (the dry run)', () => {
    const current = fullConfig();
    const text = exportConfig(current, 'yaml').replace('theme: system', 'theme: light');
    expect(diffConfig(current, parsed(text))).toEqual([
      { kind: 'change', path: 'settings.theme', before: 'system', after: 'light' },
    ]);
  });
});

it('the config version is 1', () => {
  expect(CONFIG_VERSION).toBe(1);
});
