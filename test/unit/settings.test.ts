/** Settings: defaults, strictness, patches with named fields, and the rules between retention tiers. */
import { describe, expect, it } from 'vitest';
import {
  applySettingsPatch,
  defaultSettings,
  settingsPatchSchema,
  settingsSchema,
  type Settings,
} from '../../src/shared/settings';

const DEFAULTS: Settings = {
  retention: { rawHours: 24, minuteDays: 30, hourDays: 365 },
  theme: 'dark',
  ports: { headless: 7420, health: null },
  history: { sampleIntervalMs: 2000 },
  bus: { backend: 'embedded', natsUrl: null },
  desktop: { closeToTray: true, startAtLogin: false },
};

/** The error of a patch that must fail, with its field and message. */
function refused(patch: unknown, current: Settings = DEFAULTS) {
  const r = applySettingsPatch(current, patch);
  if (r.ok) throw new Error(`expected ${JSON.stringify(patch)} to be refused`);
  expect(r.error.code).toBe('invalid_input');
  return r.error;
}

describe('settings schema', () => {
  it('parses {} to the full defaults', () => {
    expect(settingsSchema.parse({})).toEqual(DEFAULTS);
    expect(defaultSettings()).toEqual(DEFAULTS);
  });

  it('fills a partial group from its defaults', () => {
    expect(settingsSchema.parse({ retention: { rawHours: 48 }, theme: 'light' })).toEqual({
      ...DEFAULTS,
      retention: { rawHours: 48, minuteDays: 30, hourDays: 365 },
      theme: 'light',
    });
  });

  it('refuses unknown fields at every level', () => {
    expect(settingsSchema.safeParse({ colour: 'red' }).success).toBe(false);
    expect(settingsSchema.safeParse({ ports: { headless: 7420, admin: 9000 } }).success).toBe(false);
  });

  it.each([
    [{ retention: { rawHours: 0 } }, ['retention', 'rawHours']],
    [{ retention: { rawHours: 169, minuteDays: 30 } }, ['retention', 'rawHours']],
    [{ retention: { minuteDays: 366, hourDays: 3650 } }, ['retention', 'minuteDays']],
    [{ retention: { hourDays: 3651 } }, ['retention', 'hourDays']],
    [{ retention: { rawHours: 1.5 } }, ['retention', 'rawHours']],
    [{ theme: 'blue' }, ['theme']],
    [{ ports: { headless: 80 } }, ['ports', 'headless']],
    [{ ports: { headless: 65536 } }, ['ports', 'headless']],
    [{ ports: { health: 0 } }, ['ports', 'health']],
    [{ history: { sampleIntervalMs: 999 } }, ['history', 'sampleIntervalMs']],
    [{ history: { sampleIntervalMs: 60_001 } }, ['history', 'sampleIntervalMs']],
    [{ desktop: { closeToTray: 'yes' } }, ['desktop', 'closeToTray']],
    [{ desktop: { startAtLogin: 1 } }, ['desktop', 'startAtLogin']],
  ])('refuses out-of-bounds %j', (input, path) => {
    const r = settingsSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(path);
  });

  it('accepts the bounds themselves', () => {
    const edges = {
      retention: { rawHours: 168, minuteDays: 365, hourDays: 3650 },
      theme: 'system',
      ports: { headless: 65535, health: 1024 },
      history: { sampleIntervalMs: 60_000 },
      bus: { backend: 'nats' as const, natsUrl: 'tls://bus.example:4222' },
      desktop: { closeToTray: false, startAtLogin: true },
    };
    expect(settingsSchema.parse(edges)).toEqual(edges);
    expect(settingsSchema.safeParse({ retention: { rawHours: 1, minuteDays: 1, hourDays: 1 } }).success).toBe(
      true,
    );
  });
});

describe('retention rules between tiers', () => {
  it('minute retention must cover raw retention', () => {
    const r = settingsSchema.safeParse({ retention: { rawHours: 48, minuteDays: 1 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['retention', 'minuteDays']);
    expect(r.error?.issues[0]?.message).toMatch(
      /minute retention \(1 day\) must cover raw retention \(48 hours\)/,
    );
    // Exactly covering is enough: 2 days hold 48 hours.
    expect(settingsSchema.safeParse({ retention: { rawHours: 48, minuteDays: 2 } }).success).toBe(true);
  });

  it('hour retention must cover minute retention', () => {
    const r = settingsSchema.safeParse({ retention: { minuteDays: 90, hourDays: 30 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['retention', 'hourDays']);
    expect(r.error?.issues[0]?.message).toMatch(
      /hour retention \(30 days\) must cover minute retention \(90 days\)/,
    );
    expect(settingsSchema.safeParse({ retention: { minuteDays: 90, hourDays: 90 } }).success).toBe(true);
  });

  it('the health port must differ from the headless port', () => {
    const r = settingsSchema.safeParse({ ports: { headless: 8000, health: 8000 } });
    expect(r.error?.issues[0]?.path).toEqual(['ports', 'health']);
  });
});

describe('applySettingsPatch', () => {
  it('an empty patch changes nothing', () => {
    expect(applySettingsPatch(DEFAULTS, {})).toEqual({ ok: true, settings: DEFAULTS });
  });

  it('changes only the fields named, at any depth', () => {
    const current: Settings = { ...DEFAULTS, theme: 'light', ports: { headless: 9000, health: 9001 } };
    const r = applySettingsPatch(current, { retention: { rawHours: 12 }, ports: { headless: 9100 } });
    expect(r).toEqual({
      ok: true,
      settings: {
        retention: { rawHours: 12, minuteDays: 30, hourDays: 365 },
        theme: 'light',
        ports: { headless: 9100, health: 9001 },
        history: { sampleIntervalMs: 2000 },
        bus: { backend: 'embedded', natsUrl: null },
        desktop: { closeToTray: true, startAtLogin: false },
      },
    });
  });

  it('null is a value (turn the health port off), undefined means unchanged', () => {
    const current: Settings = { ...DEFAULTS, ports: { headless: 7420, health: 7421 } };
    expect(applySettingsPatch(current, { ports: { health: null } })).toMatchObject({
      ok: true,
      settings: { ports: { headless: 7420, health: null } },
    });
    expect(applySettingsPatch(current, { ports: { health: undefined } })).toMatchObject({
      ok: true,
      settings: { ports: { headless: 7420, health: 7421 } },
    });
  });

  it('does not touch the current settings object', () => {
    const current = structuredClone(DEFAULTS);
    applySettingsPatch(current, { retention: { rawHours: 2 }, theme: 'light' });
    expect(current).toEqual(DEFAULTS);
  });

  it('names the offending field as settings.<path>', () => {
    expect(refused({ retention: { rawHours: 500 } })).toEqual({
      code: 'invalid_input',
      message: 'settings.retention.rawHours: must be at most 168 hours',
      field: 'settings.retention.rawHours',
    });
    expect(refused({ history: { sampleIntervalMs: 'fast' } }).field).toBe(
      'settings.history.sampleIntervalMs',
    );
    expect(refused({ theme: 'neon' }).field).toBe('settings.theme');
  });

  it('refuses unknown fields, naming them', () => {
    expect(refused({ colour: 'red' })).toMatchObject({
      field: 'settings.colour',
      message: 'settings.colour: unknown field',
    });
    expect(refused({ retention: { secondsDays: 3 } }).field).toBe('settings.retention.secondsDays');
  });

  it('refuses a patch that is not an object', () => {
    for (const patch of [null, 'dark', 42, [], undefined]) expect(refused(patch).field).toBe('settings');
  });

  it('refuses null for a group or a field that cannot be null', () => {
    expect(refused({ retention: null }).field).toBe('settings.retention');
    expect(refused({ ports: { headless: null } }).field).toBe('settings.ports.headless');
  });

  it('checks the rules across fields on the merged result, blaming the field the patch changed', () => {
    const current: Settings = { ...DEFAULTS, retention: { rawHours: 24, minuteDays: 1, hourDays: 1 } };
    // Raising raw retention past what minute retention covers: the person changed rawHours.
    const raw = refused({ retention: { rawHours: 48 } }, current);
    expect(raw.field).toBe('settings.retention.rawHours');
    expect(raw.message).toMatch(
      /^settings\.retention\.rawHours: minute retention \(1 day\) must cover raw retention/,
    );
    expect(raw.message).toMatch(
      /raise retention\.minuteDays to at least 2 or lower retention\.rawHours to at most 24/,
    );
    // Lowering hour retention below minute retention: the person changed hourDays.
    expect(refused({ retention: { hourDays: 10 } }).field).toBe('settings.retention.hourDays');
    // Lowering minute retention below raw: minuteDays, the field changed.
    expect(refused({ retention: { minuteDays: 0 } }).field).toBe('settings.retention.minuteDays');
    const lowMinutes = refused({ retention: { rawHours: 72, minuteDays: 2 } });
    expect(lowMinutes.field).toBe('settings.retention.minuteDays');
    // Raising minute retention past hour retention: minuteDays, not hourDays.
    expect(refused({ retention: { minuteDays: 400 } }).field).toBe('settings.retention.minuteDays');
    expect(refused({ retention: { minuteDays: 366 } }, DEFAULTS).message).toMatch(/at most 365 days/);
    expect(
      refused(
        { retention: { minuteDays: 100 } },
        { ...DEFAULTS, retention: { ...DEFAULTS.retention, hourDays: 90 } },
      ),
    ).toMatchObject({ field: 'settings.retention.minuteDays' });
    // The health port colliding with the headless one, whichever was changed.
    const withHealth: Settings = { ...DEFAULTS, ports: { headless: 7420, health: 7421 } };
    expect(refused({ ports: { headless: 7421 } }, withHealth).field).toBe('settings.ports.headless');
    expect(refused({ ports: { health: 7420 } }, withHealth).field).toBe('settings.ports.health');
  });

  it('a patch that fixes both sides of a rule at once is accepted', () => {
    const r = applySettingsPatch(DEFAULTS, { retention: { rawHours: 168, minuteDays: 7 } });
    expect(r).toMatchObject({
      ok: true,
      settings: { retention: { rawHours: 168, minuteDays: 7, hourDays: 365 } },
    });
  });
});

describe('settingsPatchSchema', () => {
  it('gives no defaults: what is not in the patch stays out of it', () => {
    expect(settingsPatchSchema.parse({})).toEqual({});
    expect(settingsPatchSchema.parse({ retention: {} })).toEqual({ retention: {} });
  });
});

describe('bus settings', () => {
  it('default to the embedded bus, and need a URL for NATS', () => {
    expect(defaultSettings().bus).toEqual({ backend: 'embedded', natsUrl: null });
    expect(refused({ bus: { backend: 'nats' } }).field).toMatch(/bus\.natsUrl/);
    expect(refused({ bus: { natsUrl: 'http://x' } }).field).toMatch(/bus\.natsUrl/);
    const r = applySettingsPatch(DEFAULTS, { bus: { backend: 'nats', natsUrl: 'nats://127.0.0.1:4222' } });
    expect(r.ok && r.settings.bus).toEqual({ backend: 'nats', natsUrl: 'nats://127.0.0.1:4222' });
  });
});

describe('desktop settings', () => {
  it('default to closing to the tray and not starting at login', () => {
    expect(defaultSettings().desktop).toEqual({ closeToTray: true, startAtLogin: false });
    // Settings stored before the group existed get it from the defaults.
    expect(settingsSchema.parse({ theme: 'light' }).desktop).toEqual({
      closeToTray: true,
      startAtLogin: false,
    });
  });

  it('patch one at a time; anything but a boolean is refused at its field', () => {
    const r = applySettingsPatch(DEFAULTS, { desktop: { startAtLogin: true } });
    expect(r.ok && r.settings.desktop).toEqual({ closeToTray: true, startAtLogin: true });
    expect(refused({ desktop: { closeToTray: 'false' } })).toEqual({
      code: 'invalid_input',
      message: 'settings.desktop.closeToTray: must be true or false',
      field: 'settings.desktop.closeToTray',
    });
    expect(refused({ desktop: { startAtLogin: null } }).field).toBe('settings.desktop.startAtLogin');
    expect(refused({ desktop: { hideDock: true } }).field).toBe('settings.desktop.hideDock');
    expect(refused({ desktop: null }).field).toBe('settings.desktop');
    expect(settingsPatchSchema.parse({ desktop: {} })).toEqual({ desktop: {} });
  });
});
