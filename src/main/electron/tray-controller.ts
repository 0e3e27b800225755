/**
 * Keeps the tray current: reads the services and the open alerts through the control API whenever an
 * event says they changed (bursts coalesced into one rebuild), and sets the icon, tooltip and context
 * menu from trayModel. The menu's Start trading asks a native confirmation naming the mode and the
 * symbols first, read afresh when clicked; nothing starts unless the person says yes, and the start
 * then carries the mode the question named (the core refuses a trader's start without it).
 */
import type { EventName } from '../../shared/api';
import type { VigilApi } from '../../shared/client';
import { traderConfirmMode } from '../../shared/service-status';
import type { ServiceInfo } from '../../shared/services';
import type { TraderConfirm } from '../../shared/trader-api';
import {
  startTradingPrompt,
  trayModel,
  trayOpensWindowOnClick,
  type TrayAction,
  type TrayModel,
} from './tray-model';

/** The parts of Electron's Tray the controller uses. */
export interface TrayLike<Image, Menu> {
  setImage(image: Image): void;
  setToolTip(text: string): void;
  setContextMenu(menu: Menu | null): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

/** A subset of Electron's MenuItemConstructorOptions. */
export interface MenuTemplateItem {
  type: 'normal' | 'separator';
  label?: string;
  enabled?: boolean;
  click?: () => void;
}

export interface TrayControllerOptions<Image, Menu> {
  api: VigilApi;
  platform: NodeJS.Platform;
  /** Creates the tray (once, at the first build, so it never shows without its menu). */
  createTray(image: Image): TrayLike<Image, Menu>;
  /** The image of a file in resources/tray. */
  image(file: string): Image;
  buildMenu(template: MenuTemplateItem[]): Menu;
  /** A native yes/no question; resolves true only for yes. */
  confirm(message: string, detail: string): Promise<boolean>;
  /** Shows and focuses the window (creating it if it was closed). */
  openWindow(): void;
  quit(): void;
  /** Tells the person an action from the menu failed (they clicked; a log line alone is unseen). */
  showError(title: string, message: string): void;
  log?: (message: string) => void;
  /** Events closer together than this make one rebuild. */
  coalesceMs?: number;
}

export interface TrayController {
  /** Settles after the first build (the tray exists then, unless reading the state failed). */
  readonly ready: Promise<void>;
  dispose(): void;
}

/** What changes the tray: state (also sent on add, update and every transition), removals, alerts. */
export const TRAY_EVENTS: readonly EventName[] = [
  'service.state',
  'service.removed',
  'alert.changed',
  'service.alert',
];

/** How many open alerts are counted; beyond it the tray says "1000+". */
const OPEN_ALERTS_LIMIT = 1000;

export function createTrayController<Image, Menu>(
  options: TrayControllerOptions<Image, Menu>,
): TrayController {
  const { api, platform, log = (message) => console.warn(`[tray] ${message}`) } = options;
  const coalesceMs = options.coalesceMs ?? 250;
  let tray: TrayLike<Image, Menu> | null = null;
  let shown: { icon: string; tooltip: string; menu: string } | null = null;
  let services: readonly ServiceInfo[] = [];
  let openAlerts = { count: 0, capped: false };
  const busy = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let building = false;
  let again = false;
  let disposed = false;

  /** Reads the state and applies it; one at a time, with a change during a build read once more after it. */
  const build = async (): Promise<void> => {
    if (building) {
      again = true;
      return;
    }
    building = true;
    try {
      do {
        again = false;
        await read();
        if (!disposed) apply();
      } while (again && !disposed);
    } finally {
      building = false;
    }
  };

  const read = async (): Promise<void> => {
    const [list, alerts] = await Promise.all([
      api.services.list(),
      api.alerts.list({ state: 'open', limit: OPEN_ALERTS_LIMIT }),
    ]);
    // A failed read keeps what the tray showed: stale for a moment rather than blank.
    if (list.ok) services = list.result;
    else log(`services.list failed: ${list.error.message}`);
    if (alerts.ok) openAlerts = { count: alerts.result.items.length, capped: alerts.result.next !== null };
    else log(`alerts.list failed: ${alerts.error.message}`);
  };

  /** Sets only what changed: re-setting an open menu closes it on some desktops. */
  const apply = (): void => {
    const model = trayModel({
      services,
      openAlerts: openAlerts.count,
      openAlertsCapped: openAlerts.capped,
      busy: [...busy],
      platform,
    });
    const menuKey = JSON.stringify(model.menu);
    if (tray === null) {
      tray = options.createTray(options.image(model.icon));
      if (trayOpensWindowOnClick(platform)) tray.on('click', () => options.openWindow());
    } else if (shown?.icon !== model.icon) {
      tray.setImage(options.image(model.icon));
    }
    if (shown?.tooltip !== model.tooltip) tray.setToolTip(model.tooltip);
    // Linux: always a context menu (AppIndicator shows only with one, and ignores clicks), and set
    // again after any change, since a changed item is not picked up otherwise.
    if (shown?.menu !== menuKey) tray.setContextMenu(options.buildMenu(template(model)));
    shown = { icon: model.icon, tooltip: model.tooltip, menu: menuKey };
  };

  const template = (model: TrayModel): MenuTemplateItem[] =>
    model.menu.map((item) => {
      if (item.kind === 'separator') return { type: 'separator' };
      if (item.kind === 'status') return { type: 'normal', label: item.label, enabled: false };
      const { action } = item;
      return { type: 'normal', label: item.label, enabled: item.enabled, click: () => run(action) };
    });

  const schedule = (): void => {
    if (timer !== null || disposed) return;
    timer = setTimeout(() => {
      timer = null;
      void build().catch((error: unknown) => log(`rebuild failed: ${String(error)}`));
    }, coalesceMs);
  };

  const run = (action: TrayAction): void => {
    if (action.type === 'open') options.openWindow();
    else if (action.type === 'quit') options.quit();
    else void trade(action.type === 'start-trading' ? 'start' : 'stop', action.service);
  };

  /** Start (after a yes) or stop one trader; its items stay disabled meanwhile. */
  const trade = async (what: 'start' | 'stop', name: string): Promise<void> => {
    if (busy.has(name)) return;
    const failed = (reason: string): void => {
      log(`${what} ${name} failed: ${reason}`);
      options.showError(`Could not ${what} ${name}`, reason);
    };
    busy.add(name);
    schedule();
    try {
      let confirm: TraderConfirm | null = null;
      if (what === 'start') {
        // Read afresh: the confirmation must name what will run now, not what the menu showed.
        const current = await api.services.get({ name });
        if (!current.ok) return failed(current.error.message);
        const { message, detail } = startTradingPrompt(current.result);
        if (!(await options.confirm(message, detail))) return;
        confirm = { mode: traderConfirmMode(current.result) };
      }
      const res = confirm ? await api.services.start({ name, confirm }) : await api.services.stop({ name });
      if (!res.ok) failed(res.error.message);
    } catch (error) {
      failed(error instanceof Error ? error.message : String(error));
    } finally {
      busy.delete(name);
      schedule();
    }
  };

  const offs = TRAY_EVENTS.map((event) => api.on(event, schedule));
  const ready = build().catch((error: unknown) => log(`first build failed: ${String(error)}`));

  return {
    ready,
    dispose() {
      disposed = true;
      for (const off of offs) off();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      tray?.destroy();
      tray = null;
    },
  };
}
