import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  TOOLTIP_MAX,
  startTradingPrompt,
  trayIconFile,
  trayModel,
  trayOpensWindowOnClick,
  trayStates,
  type TrayInput,
  type TrayMenuItem,
} from '../../src/main/electron/tray-model';
import { serviceInfo, trader } from '../helpers/service-info';

const platforms = ['darwin', 'linux', 'win32'] as const;
const trayDir = join(import.meta.dirname, '..', '..', 'resources', 'tray');

const healthy = serviceInfo({ name: 'collector-a', kind: 'collector' });
const degraded = (name: string, reason = 'stale stream btcusdt.trade') =>
  serviceInfo({ name, kind: 'collector', health: 'degraded', healthReason: reason });
const fatal = (name: string) => serviceInfo({ name, state: 'fatal', health: null, pid: null });

const input = (services: TrayInput['services'], extra: Partial<TrayInput> = {}): TrayInput => ({
  services,
  openAlerts: 0,
  platform: 'linux',
  ...extra,
});

const labels = (menu: TrayMenuItem[]) => menu.map((i) => (i.kind === 'separator' ? '---' : i.label));
const statusLines = (menu: TrayMenuItem[]) => menu.flatMap((i) => (i.kind === 'status' ? [i.label] : []));
const action = (menu: TrayMenuItem[], label: string) => {
  const item = menu.find((i) => i.kind === 'action' && i.label === label);
  if (item?.kind !== 'action') throw new Error(`no menu action "${label}" in ${labels(menu).join(' | ')}`);
  return item;
};

describe('overall state, icon and tooltip', () => {
  it('healthy: every service runs healthy', () => {
    const m = trayModel(input([healthy, serviceInfo({ name: 'opt', kind: 'optimizer' })]));
    expect(m.state).toBe('healthy');
    expect(m.tooltip).toBe('Vigil — all healthy');
    expect(statusLines(m.menu)[0]).toBe('All healthy (2 services)');
  });

  it('no services counts as healthy, and says so', () => {
    const m = trayModel(input([]));
    expect(m.state).toBe('healthy');
    expect(m.tooltip).toBe('Vigil — no services');
    expect(statusLines(m.menu)).toEqual(['No services', 'No open alerts', 'No trader configured']);
  });

  it('degraded, with alerts and a paper trader: the problem shows in the icon, trading in the words', () => {
    const m = trayModel(
      input(
        [
          degraded('collector-a'),
          degraded('collector-b'),
          trader('alpha', 'running', { mode: 'paper', symbols: ['BTCUSDT'] }),
        ],
        { openAlerts: 1 },
      ),
    );
    expect(m.state).toBe('degraded');
    expect(m.tooltip).toBe('Vigil — 2 degraded, 1 alert; trading PAPER on BTCUSDT');
    expect(statusLines(m.menu).slice(0, 4)).toEqual([
      '2 degraded',
      'collector-a: degraded: stale stream btcusdt.trade',
      'collector-b: degraded: stale stream btcusdt.trade',
      '1 alert open',
    ]);
  });

  it('failing outranks degraded and trading', () => {
    const m = trayModel(
      input([fatal('collector-x'), degraded('collector-b'), trader('alpha', 'running', { mode: 'live' })], {
        openAlerts: 3,
      }),
    );
    expect(m.state).toBe('failing');
    expect(m.tooltip).toBe('Vigil — 1 failing, 1 degraded, 3 alerts; trading LIVE');
    // Only the worse kind is listed by name, as on the Dashboard.
    expect(statusLines(m.menu).slice(0, 2)).toEqual([
      '1 failing, 1 degraded',
      'collector-x: fatal (gave up)',
    ]);
  });

  it('trading when all is healthy and a trader runs', () => {
    const m = trayModel(input([healthy, trader('alpha', 'running', { mode: 'paper', symbols: 'BTCUSDT' })]));
    expect(m.state).toBe('trading');
    expect(m.tooltip).toBe('Vigil — all healthy; trading PAPER on BTCUSDT');
  });

  it('names LIVE and PAPER traders apart, and each trader when several trade', () => {
    const m = trayModel(
      input([
        trader('alpha', 'running', { mode: 'paper', symbols: ['BTCUSDT'] }),
        trader('beta', 'starting', { mode: 'LIVE', symbols: ['ETHUSDT', 'SOLUSDT'] }),
        trader('gamma', 'stopped', { mode: 'live' }),
      ]),
    );
    expect(m.state).toBe('trading');
    expect(m.tooltip).toBe(
      'Vigil — all healthy; trading PAPER on BTCUSDT (alpha), LIVE on ETHUSDT, SOLUSDT (beta)',
    );
  });

  it('a trader whose mode Vigil cannot know says so', () => {
    const custom = trader(
      'py',
      'running',
      {},
      { program: { type: 'command', command: 'python3', args: [] } },
    );
    expect(trayModel(input([custom])).tooltip).toBe('Vigil — all healthy; trading mode unknown');
    // A built-in trader without config.mode runs on paper.
    expect(trayModel(input([trader('builtin', 'running')])).tooltip).toBe(
      'Vigil — all healthy; trading PAPER',
    );
  });

  it('caps the tooltip at what Windows shows', () => {
    const many = Array.from({ length: 12 }, (_, i) =>
      trader(`trader-${i}`, 'running', { mode: 'paper', symbols: ['BTCUSDT', 'ETHUSDT'] }),
    );
    const { tooltip } = trayModel(input(many, { openAlerts: 1000, openAlertsCapped: true }));
    expect(tooltip.length).toBe(TOOLTIP_MAX);
    expect(
      tooltip.startsWith('Vigil — all healthy, 1000+ alerts; trading PAPER on BTCUSDT, ETHUSDT (trader-0)'),
    ).toBe(true);
    expect(tooltip.endsWith('…')).toBe(true);
  });

  it.each(platforms)('picks the icon file for each state on %s', (platform) => {
    const expected = { darwin: 'Template.png', linux: '.png', win32: '.ico' }[platform];
    for (const state of trayStates) expect(trayIconFile(state, platform)).toBe(`${state}${expected}`);
    const m = trayModel(input([trader('alpha', 'running')], { platform }));
    expect(m.icon).toBe(`trading${expected}`);
  });

  it('other Unixes get the PNG', () => {
    expect(trayIconFile('failing', 'freebsd')).toBe('failing.png');
  });
});

describe('menu', () => {
  it('has status lines (disabled), Open Vigil, the trader actions and Quit, in that order', () => {
    const m = trayModel(
      input([healthy, trader('alpha', 'stopped', { mode: 'paper', symbols: ['BTCUSDT'] })]),
    );
    expect(labels(m.menu)).toEqual([
      'All healthy (2 services)',
      'No open alerts',
      '---',
      'Open Vigil',
      '---',
      'alpha: stopped, PAPER on BTCUSDT',
      'Start trading…',
      'Stop trading',
      '---',
      'Quit Vigil',
    ]);
    expect(action(m.menu, 'Open Vigil')).toMatchObject({ enabled: true, action: { type: 'open' } });
    expect(action(m.menu, 'Quit Vigil')).toMatchObject({ enabled: true, action: { type: 'quit' } });
    expect(action(m.menu, 'Start trading…')).toMatchObject({
      enabled: true,
      action: { type: 'start-trading', service: 'alpha' },
    });
    expect(action(m.menu, 'Stop trading')).toMatchObject({
      enabled: false,
      action: { type: 'stop-trading', service: 'alpha' },
    });
  });

  it('enables Stop while the trader runs, neither for a fatal one (it needs acknowledging) nor while busy', () => {
    const running = trayModel(input([trader('alpha', 'running')])).menu;
    expect(action(running, 'Start trading…').enabled).toBe(false);
    expect(action(running, 'Stop trading').enabled).toBe(true);
    const gaveUp = trayModel(input([trader('alpha', 'fatal')])).menu;
    expect(action(gaveUp, 'Start trading…').enabled).toBe(false);
    expect(action(gaveUp, 'Stop trading').enabled).toBe(false);
    const busy = trayModel(input([trader('alpha', 'stopped')], { busy: ['alpha'] })).menu;
    expect(action(busy, 'Start trading…').enabled).toBe(false);
  });

  it('names each trader when there are several', () => {
    const m = trayModel(input([trader('alpha', 'stopped'), trader('beta', 'running', { mode: 'live' })]));
    expect(action(m.menu, 'Start trading with alpha…').enabled).toBe(true);
    expect(action(m.menu, 'Stop trading with beta').enabled).toBe(true);
    expect(statusLines(m.menu)).toContain('beta: running, LIVE');
  });

  it('lists at most four problems and counts the rest', () => {
    const m = trayModel(input(['a', 'b', 'c', 'd', 'e', 'f'].map(fatal)));
    expect(statusLines(m.menu).slice(0, 6)).toEqual([
      '6 failing',
      'a: fatal (gave up)',
      'b: fatal (gave up)',
      'c: fatal (gave up)',
      'd: fatal (gave up)',
      'and 2 more',
    ]);
  });

  it('keeps a child’s words on one short line, with "&" kept literal where it would be a mnemonic', () => {
    const reason = 'book & trades\nstale '.repeat(10);
    const linux = statusLines(trayModel(input([degraded('c', reason)])).menu)[1]!;
    expect(linux).not.toContain('\n');
    expect(linux.length).toBeLessThanOrEqual(80 + 10); // each "&" doubled after clipping
    expect(linux).toContain('book && trades');
    const mac = statusLines(trayModel(input([degraded('c', reason)], { platform: 'darwin' })).menu)[1]!;
    expect(mac).toContain('book & trades');
    expect(mac.length).toBe(80);
  });

  it.each(platforms)(
    'always has a menu with Open and Quit on %s (AppIndicator shows only with one)',
    (platform) => {
      for (const services of [[], [healthy], [fatal('x')], [trader('t', 'running')]]) {
        const m = trayModel(input(services, { platform }));
        expect(action(m.menu, 'Open Vigil').enabled).toBe(true);
        expect(action(m.menu, 'Quit Vigil').enabled).toBe(true);
      }
    },
  );

  it('only Windows opens the window on a click (macOS opens the menu, AppIndicator ignores clicks)', () => {
    expect(trayOpensWindowOnClick('win32')).toBe(true);
    expect(trayOpensWindowOnClick('darwin')).toBe(false);
    expect(trayOpensWindowOnClick('linux')).toBe(false);
  });
});

describe('start trading confirmation', () => {
  it('names LIVE and the symbols loudly', () => {
    const p = startTradingPrompt(
      trader('alpha', 'stopped', { mode: 'live', symbols: ['BTCUSDT', 'ETHUSDT'] }),
    );
    expect(p.message).toBe('Start LIVE trading with alpha?');
    expect(p.detail).toContain('Mode: LIVE. Real orders with real money on the exchange.');
    expect(p.detail).toContain('Symbols: BTCUSDT, ETHUSDT');
  });

  it('names PAPER, and where that came from', () => {
    const configured = startTradingPrompt(
      trader('alpha', 'stopped', { mode: 'paper', symbols: ['BTCUSDT'] }),
    );
    expect(configured.message).toBe('Start PAPER trading with alpha?');
    expect(configured.detail).toContain('Mode: PAPER. Simulated orders: nothing is sent to an exchange.');
    const byDefault = startTradingPrompt(trader('alpha', 'stopped'));
    expect(byDefault.detail).toContain('the built-in trader defaults to paper');
    expect(byDefault.detail).toContain('Symbols: not set in config.symbols');
  });

  it('warns when the mode is unknown', () => {
    const p = startTradingPrompt(trader('alpha', 'stopped', { mode: 'yolo' }));
    expect(p.message).toBe('Start trading with alpha? Its mode is unknown.');
    expect(p.detail).toContain('neither "paper" nor "live"');
  });
});

// ---- The files the model names ----------------------------------------------------------------

function pngInfo(bytes: Buffer): { width: number; height: number; rgba: Buffer } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect([...data.subarray(8, 13)]).toEqual([8, 6, 0, 0, 0]); // RGBA 8-bit, no interlace
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (width * 4 + 1)]).toBe(0); // the script writes filter "none" only
    raw.copy(rgba, y * width * 4, y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1));
  }
  return { width, height, rgba };
}

describe('icon files in resources/tray', () => {
  it.each(trayStates)('%s: every platform’s file exists, with @2x beside the PNGs', (state) => {
    for (const platform of platforms) {
      const file = trayIconFile(state, platform);
      expect(existsSync(join(trayDir, file)), file).toBe(true);
      if (file.endsWith('.png')) {
        const at2x = file.replace(/\.png$/, '@2x.png');
        expect(pngInfo(readFileSync(join(trayDir, file)))).toMatchObject({ width: 16, height: 16 });
        expect(pngInfo(readFileSync(join(trayDir, at2x)))).toMatchObject({ width: 32, height: 32 });
      }
    }
  });

  it.each(trayStates)('%s: the macOS template is black plus alpha, and not empty', (state) => {
    for (const file of [`${state}Template.png`, `${state}Template@2x.png`]) {
      const { rgba } = pngInfo(readFileSync(join(trayDir, file)));
      let opaque = 0;
      for (let i = 0; i < rgba.length; i += 4) {
        expect(rgba[i]! + rgba[i + 1]! + rgba[i + 2]!, file).toBe(0);
        if (rgba[i + 3] === 255) opaque++;
      }
      expect(opaque, file).toBeGreaterThan(rgba.length / 4 / 4);
    }
  });

  it.each(trayStates)('%s.ico holds 32-bit PNG images for 100 % to 300 % scaling', (state) => {
    const ico = readFileSync(join(trayDir, `${state}.ico`));
    expect(ico.readUInt16LE(0)).toBe(0);
    expect(ico.readUInt16LE(2)).toBe(1); // icon
    const count = ico.readUInt16LE(4);
    const sizes: number[] = [];
    let end = 6 + 16 * count;
    for (let i = 0; i < count; i++) {
      const entry = 6 + 16 * i;
      const size = ico[entry]!;
      expect(ico[entry + 1]).toBe(size);
      expect(ico.readUInt16LE(entry + 4)).toBe(1); // planes
      expect(ico.readUInt16LE(entry + 6)).toBe(32); // bits per pixel
      const length = ico.readUInt32LE(entry + 8);
      const offset = ico.readUInt32LE(entry + 12);
      expect(offset).toBe(end); // images follow one another, nothing overlaps
      end = offset + length;
      expect(pngInfo(ico.subarray(offset, offset + length))).toMatchObject({ width: size, height: size });
      sizes.push(size);
    }
    expect(end).toBe(ico.length);
    expect(sizes).toEqual([16, 20, 24, 32, 40, 48]);
  });
});
