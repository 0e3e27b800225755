import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import { internalClient } from '../../src/main/api/internal-client';
import type { Router } from '../../src/main/api/router';
import {
  createTrayController,
  type MenuTemplateItem,
  type TrayControllerOptions,
} from '../../src/main/electron/tray-controller';
import { checkTraderConfirmation } from '../../src/main/supervisor/trader-confirmation';
import { commands, type CommandName } from '../../src/shared/api';
import { fail, ok, type ApiError } from '../../src/shared/errors';
import type { ServiceInfo } from '../../src/shared/services';
import { serviceInfo, trader } from '../helpers/service-info';

/** The core as the tray sees it: services and open alerts behind a router, and the event hub. */
function fakeCore(services: ServiceInfo[]) {
  const core = {
    services,
    openAlerts: 0,
    calls: [] as { command: string; input: unknown }[],
    events: new EventHub(),
    count: (command: string) => core.calls.filter((c) => c.command === command).length,
  };
  const router: Router = {
    async dispatch(command, input) {
      core.calls.push({ command: String(command), input });
      // What the real router refuses, this one refuses too: the tray must call the contract as it is.
      const parsed = commands[command as CommandName].input.safeParse(input);
      if (!parsed.success) return fail('invalid_input', `${String(command)}: ${parsed.error.message}`);
      const name = (input as { name?: string }).name;
      const find = () => core.services.find((s) => s.name === name);
      switch (command) {
        case 'services.list':
          return ok(core.services);
        case 'alerts.list':
          return ok({ items: Array.from({ length: core.openAlerts }, (_, id) => ({ id })), next: null });
        case 'services.get':
          return find() ? ok(find()) : fail('not_found', `no service named "${name}"`);
        case 'services.start':
        case 'services.stop': {
          const s = find()!;
          // The supervisor's own rule: a trader starts only with its mode confirmed.
          if (command === 'services.start') {
            try {
              checkTraderConfirmation(
                s,
                'start',
                (input as { confirm?: { mode: 'paper' | 'live' } }).confirm,
              );
            } catch (error) {
              const e = error as ApiError;
              return fail(e.code, e.message, e.field);
            }
          }
          s.state = command === 'services.start' ? 'running' : 'stopped';
          core.events.emit('service.state', s);
          return ok(s);
        }
        default:
          return fail('unknown_command', String(command));
      }
    },
  };
  return Object.assign(core, { api: internalClient(router, core.events) });
}

type Image = { file: string };
type Menu = MenuTemplateItem[];

class FakeTray {
  image: Image;
  tooltip = '';
  menu: Menu | null = null;
  menusSet = 0;
  imagesSet = 0;
  destroyed = false;
  clickListeners: (() => void)[] = [];
  constructor(image: Image) {
    this.image = image;
  }
  setImage(image: Image): void {
    this.image = image;
    this.imagesSet++;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setContextMenu(menu: Menu | null): void {
    this.menu = menu;
    this.menusSet++;
  }
  on(_event: 'click', listener: () => void): void {
    this.clickListeners.push(listener);
  }
  destroy(): void {
    this.destroyed = true;
  }
  item(label: string): MenuTemplateItem {
    const item = this.menu?.find((i) => i.label === label);
    if (!item) throw new Error(`no menu item "${label}" in ${this.menu?.map((i) => i.label).join(' | ')}`);
    return item;
  }
  click(label: string): void {
    const item = this.item(label);
    if (!item.enabled) throw new Error(`"${label}" is disabled`);
    item.click!();
  }
}

function setup(services: ServiceInfo[], overrides: Partial<TrayControllerOptions<Image, Menu>> = {}) {
  const core = fakeCore(services);
  const trays: FakeTray[] = [];
  const confirm = vi.fn(async (_message: string, _detail: string) => false);
  const openWindow = vi.fn();
  const quit = vi.fn();
  const log = vi.fn();
  const showError = vi.fn();
  const controller = createTrayController<Image, Menu>({
    api: core.api,
    platform: 'linux',
    createTray: (image) => {
      const tray = new FakeTray(image);
      trays.push(tray);
      return tray;
    },
    image: (file) => ({ file }),
    buildMenu: (template) => template,
    confirm,
    openWindow,
    quit,
    showError,
    log,
    ...overrides,
  });
  return {
    core,
    controller,
    confirm,
    openWindow,
    quit,
    showError,
    log,
    get tray(): FakeTray {
      expect(trays).toHaveLength(1);
      return trays[0]!;
    },
  };
}

const paperTrader = () => trader('alpha', 'stopped', { mode: 'paper', symbols: ['BTCUSDT'] });
const collector = () => serviceInfo({ name: 'collector-a', kind: 'collector' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('building the tray', () => {
  it('creates the tray once, with its icon, tooltip and menu at the first build', async () => {
    const t = setup([collector(), paperTrader()]);
    await t.controller.ready;
    expect(t.tray.image).toEqual({ file: 'healthy.png' });
    expect(t.tray.tooltip).toBe('Vigil — all healthy');
    expect(t.tray.menusSet).toBe(1);
    expect(t.tray.item('Start trading…').enabled).toBe(true);
    expect(t.tray.item('alpha: stopped, PAPER on BTCUSDT').enabled).toBe(false);
    expect(t.tray.clickListeners).toHaveLength(0); // Linux: the menu only
    t.controller.dispose();
    expect(t.tray.destroyed).toBe(true);
  });

  it('coalesces a burst of events into one rebuild', async () => {
    const t = setup([collector()]);
    await t.controller.ready;
    expect(t.core.count('services.list')).toBe(1);
    const c = t.core.services[0]!;
    c.state = 'backoff';
    for (let i = 0; i < 20; i++) t.core.events.emit('service.state', c);
    await vi.advanceTimersByTimeAsync(249);
    expect(t.core.count('services.list')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.core.count('services.list')).toBe(2);
    expect(t.core.count('alerts.list')).toBe(2);
    expect(t.tray.image).toEqual({ file: 'failing.png' });
    expect(t.tray.imagesSet).toBe(1);
    expect(t.tray.tooltip).toBe('Vigil — 1 failing');
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.core.count('services.list')).toBe(2); // nothing more happened
  });

  it.each([
    ['service.removed', { name: 'collector-a' }],
    ['alert.changed', {}],
    ['service.alert', {}],
  ] as const)('rebuilds on %s', async (event, payload) => {
    const t = setup([collector()]);
    await t.controller.ready;
    t.core.openAlerts = 2;
    t.core.events.emit(event, payload as never);
    await vi.advanceTimersByTimeAsync(250);
    expect(t.core.count('services.list')).toBe(2);
    expect(t.tray.tooltip).toBe('Vigil — all healthy, 2 alerts');
  });

  it('ignores events that do not change the tray (metrics, logs)', async () => {
    const t = setup([collector()]);
    await t.controller.ready;
    t.core.events.emit('service.log', { service: 'collector-a', lines: [] });
    t.core.events.emit('metrics', {} as never);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.core.count('services.list')).toBe(1);
  });

  it('sets the menu again only when it changed (an open menu would close)', async () => {
    const t = setup([collector()]);
    await t.controller.ready;
    t.core.events.emit('service.state', t.core.services[0]!);
    await vi.advanceTimersByTimeAsync(250);
    expect(t.core.count('services.list')).toBe(2);
    expect(t.tray.menusSet).toBe(1);
    expect(t.tray.imagesSet).toBe(0);
  });

  it('keeps what it showed when a read fails, and says why', async () => {
    const t = setup([collector()]);
    await t.controller.ready;
    const list = t.core.api.services.list;
    t.core.api.services.list = async () => fail('internal', 'store closed');
    t.core.events.emit('service.state', t.core.services[0]!);
    await vi.advanceTimersByTimeAsync(250);
    expect(t.log).toHaveBeenCalledWith('services.list failed: store closed');
    expect(t.tray.tooltip).toBe('Vigil — all healthy');
    t.core.api.services.list = list;
  });

  it('stops listening when disposed', async () => {
    const t = setup([collector()]);
    await t.controller.ready;
    t.controller.dispose();
    t.core.events.emit('service.state', t.core.services[0]!);
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.core.count('services.list')).toBe(1);
  });

  it('on Windows a click opens the window', async () => {
    const t = setup([collector()], { platform: 'win32' });
    await t.controller.ready;
    expect(t.tray.image).toEqual({ file: 'healthy.ico' });
    t.tray.clickListeners.forEach((listener) => listener());
    expect(t.openWindow).toHaveBeenCalledOnce();
  });
});

describe('menu actions', () => {
  it('Open Vigil opens the window; Quit quits', async () => {
    const t = setup([collector()]);
    await t.controller.ready;
    t.tray.click('Open Vigil');
    expect(t.openWindow).toHaveBeenCalledOnce();
    t.tray.click('Quit Vigil');
    expect(t.quit).toHaveBeenCalledOnce();
  });

  it('Start trading asks first, naming mode and symbols; a refusal starts nothing', async () => {
    const t = setup([paperTrader()]);
    await t.controller.ready;
    t.tray.click('Start trading…');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.confirm).toHaveBeenCalledOnce();
    const [message, detail] = t.confirm.mock.calls[0]!;
    expect(message).toBe('Start PAPER trading with alpha?');
    expect(detail).toContain('Symbols: BTCUSDT');
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.core.count('services.start')).toBe(0);
    expect(t.core.services[0]!.state).toBe('stopped');
    expect(t.tray.item('Start trading…').enabled).toBe(true); // free again after the answer
  });

  it('a yes starts the trader, and the tray then shows it trading', async () => {
    const t = setup([trader('alpha', 'stopped', { mode: 'live', symbols: ['ETHUSDT'] })]);
    t.confirm.mockResolvedValue(true);
    await t.controller.ready;
    t.tray.click('Start trading…');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.confirm.mock.calls[0]![0]).toBe('Start LIVE trading with alpha?');
    // It carries the mode the question named: the core starts no trader without it.
    expect(t.core.calls.filter((c) => c.command === 'services.start')).toEqual([
      { command: 'services.start', input: { name: 'alpha', confirm: { mode: 'live' } } },
    ]);
    await vi.advanceTimersByTimeAsync(250);
    expect(t.tray.image).toEqual({ file: 'trading.png' });
    expect(t.tray.tooltip).toBe('Vigil — all healthy; trading LIVE on ETHUSDT');
    expect(t.tray.item('Stop trading').enabled).toBe(true);
    expect(t.tray.item('Start trading…').enabled).toBe(false);
  });

  it('a trader of unknown mode, once confirmed, is started as one that may trade live', async () => {
    const program = { type: 'command' as const, command: 'my-trader', args: [] };
    const t = setup([trader('alpha', 'stopped', { symbols: ['BTCUSDT'] }, { program })]);
    t.confirm.mockResolvedValue(true);
    await t.controller.ready;
    t.tray.click('Start trading…');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.confirm.mock.calls[0]![0]).toBe('Start trading with alpha? Its mode is unknown.');
    expect(t.core.calls.filter((c) => c.command === 'services.start')).toEqual([
      { command: 'services.start', input: { name: 'alpha', confirm: { mode: 'live' } } },
    ]);
    expect(t.showError).not.toHaveBeenCalled();
    expect(t.core.services[0]!.state).toBe('running');
  });

  it('the confirmation names what the trader is configured to do now, not what the menu showed', async () => {
    const t = setup([paperTrader()]);
    await t.controller.ready;
    // The definition changed to LIVE; the event has not been handled yet.
    t.core.services[0] = trader('alpha', 'stopped', { mode: 'live', symbols: ['SOLUSDT'] });
    t.tray.click('Start trading…');
    await vi.advanceTimersByTimeAsync(0);
    const [message, detail] = t.confirm.mock.calls[0]!;
    expect(message).toBe('Start LIVE trading with alpha?');
    expect(detail).toContain('Symbols: SOLUSDT');
  });

  it('while the question is open, the trader’s items wait and a second click asks nothing more', async () => {
    const t = setup([paperTrader()]);
    let answer!: (yes: boolean) => void;
    t.confirm.mockImplementation(() => new Promise<boolean>((resolve) => (answer = resolve)));
    await t.controller.ready;
    const start = t.tray.item('Start trading…');
    start.click!();
    await vi.advanceTimersByTimeAsync(250);
    expect(t.tray.item('Start trading…').enabled).toBe(false);
    start.click!(); // the old menu's item, clicked again
    await vi.advanceTimersByTimeAsync(0);
    expect(t.confirm).toHaveBeenCalledOnce();
    answer(true);
    await vi.advanceTimersByTimeAsync(250);
    expect(t.core.count('services.start')).toBe(1);
  });

  it('Stop trading stops the trader without asking', async () => {
    const t = setup([trader('alpha', 'running', { mode: 'paper' })]);
    await t.controller.ready;
    t.tray.click('Stop trading');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.confirm).not.toHaveBeenCalled();
    expect(t.core.calls.filter((c) => c.command === 'services.stop')).toEqual([
      { command: 'services.stop', input: { name: 'alpha' } },
    ]);
    await vi.advanceTimersByTimeAsync(250);
    expect(t.tray.image).toEqual({ file: 'healthy.png' });
  });

  it('a trader that vanished before the question is not started, and the person is told why', async () => {
    const t = setup([paperTrader()]);
    t.confirm.mockResolvedValue(true);
    await t.controller.ready;
    t.core.services.length = 0;
    t.tray.click('Start trading…');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.confirm).not.toHaveBeenCalled();
    expect(t.core.count('services.start')).toBe(0);
    expect(t.log).toHaveBeenCalledWith('start alpha failed: no service named "alpha"');
    expect(t.showError).toHaveBeenCalledWith('Could not start alpha', 'no service named "alpha"');
  });
});
