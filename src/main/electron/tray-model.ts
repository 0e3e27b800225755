/**
 * What the tray shows, as data: from the services' live state and the open alert count to the icon,
 * the tooltip and the context menu. Pure, so every state and platform is tested without Electron; the
 * controller (tray-controller.ts) turns it into Electron's Tray and Menu.
 */
import { canStart, canStop } from '../../shared/service-actions';
import { isTrading, overallStatus, traderMode, traderSymbols } from '../../shared/service-status';
import type { ServiceInfo } from '../../shared/services';

export const trayStates = ['healthy', 'degraded', 'failing', 'trading'] as const;
export type TrayState = (typeof trayStates)[number];

export interface TrayInput {
  services: readonly ServiceInfo[];
  openAlerts: number;
  /** More alerts are open than were counted. */
  openAlertsCapped?: boolean;
  /** Traders with a confirmation or a command under way: their Start/Stop wait for it. */
  busy?: readonly string[];
  platform: NodeJS.Platform;
}

export type TrayAction =
  | { type: 'open' }
  | { type: 'start-trading'; service: string }
  | { type: 'stop-trading'; service: string }
  | { type: 'quit' };

export type TrayMenuItem =
  | { kind: 'separator' }
  /** A line of information, shown disabled. */
  | { kind: 'status'; label: string }
  | { kind: 'action'; label: string; enabled: boolean; action: TrayAction };

export interface TrayModel {
  state: TrayState;
  /** A file in resources/tray. */
  icon: string;
  tooltip: string;
  menu: TrayMenuItem[];
}

/** Problems listed by name in the menu; the rest are counted. */
const SHOWN_PROBLEMS = 4;
/** Windows cuts a tray tooltip at 127 characters; the others are no better at long ones. */
export const TOOLTIP_MAX = 127;
/** Menu lines carry a child's own words (health reasons): keep the menu narrow. */
const LINE_MAX = 80;

export function trayModel(input: TrayInput): TrayModel {
  const { services, platform } = input;
  const status = overallStatus(services);
  const trading = services.filter(isTrading);
  const state = trayState(status.level, trading.length > 0);
  return {
    state,
    icon: trayIconFile(state, platform),
    tooltip: trayTooltip(input),
    menu: trayMenu(input),
  };
}

/**
 * A problem outranks trading in the icon: the icon is what catches the eye, and a failing collector
 * under a running trader needs attention more than the reminder that it trades (which the tooltip and
 * the menu still give). No services at all is not a problem.
 */
function trayState(level: ReturnType<typeof overallStatus>['level'], trading: boolean): TrayState {
  if (level === 'failing' || level === 'degraded') return level;
  return trading ? 'trading' : 'healthy';
}

/**
 * macOS: a template image (black plus alpha, tinted by the menu bar; Electron loads the @2x file
 * beside it and marks it a template from the name). Windows: an .ico with every size its scalings
 * need. Linux and the rest: the colour PNG.
 */
export function trayIconFile(state: TrayState, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return `${state}Template.png`;
  if (platform === 'win32') return `${state}.ico`;
  return `${state}.png`;
}

/**
 * Windows shows the menu on a right click only, so a left click opens the window. macOS opens the
 * menu on any click, and Linux (AppIndicator) ignores clicks: both get only the menu.
 */
export function trayOpensWindowOnClick(platform: NodeJS.Platform): boolean {
  return platform === 'win32';
}

/** "Vigil — 2 degraded, 1 alert; trading PAPER on BTCUSDT". */
export function trayTooltip(input: TrayInput): string {
  const summary = [healthSummary(input.services)];
  if (input.openAlerts > 0 || input.openAlertsCapped) summary.push(alertsText(input));
  const trading = input.services.filter(isTrading);
  let text = `Vigil — ${summary.join(', ')}`;
  if (trading.length > 0) {
    const named = trading.length > 1;
    text += `; trading ${trading.map((t) => tradesWhat(t) + (named ? ` (${t.name})` : '')).join(', ')}`;
  }
  return clip(text, TOOLTIP_MAX);
}

function healthSummary(services: readonly ServiceInfo[]): string {
  if (services.length === 0) return 'no services';
  const { counts } = overallStatus(services);
  const parts: string[] = [];
  if (counts.failing > 0) parts.push(`${counts.failing} failing`);
  if (counts.degraded > 0) parts.push(`${counts.degraded} degraded`);
  return parts.length > 0 ? parts.join(', ') : 'all healthy';
}

function alertsText({ openAlerts, openAlertsCapped }: TrayInput): string {
  return `${openAlerts}${openAlertsCapped ? '+' : ''} alert${openAlerts === 1 && !openAlertsCapped ? '' : 's'}`;
}

/** The trading mode as the tray names it: loud capitals, since LIVE means real money. */
export function modeWord(service: ServiceInfo): string {
  const { mode } = traderMode(service);
  return mode === 'unknown' ? 'mode unknown' : mode.toUpperCase();
}

/** "PAPER on BTCUSDT, ETHUSDT", or without the symbols when the service does not name them. */
function tradesWhat(service: ServiceInfo): string {
  const symbols = traderSymbols(service);
  return symbols === null ? modeWord(service) : `${modeWord(service)} on ${symbols.join(', ')}`;
}

function trayMenu(input: TrayInput): TrayMenuItem[] {
  const { services, platform } = input;
  const line = (label: string): TrayMenuItem => ({ kind: 'status', label: menuText(label, platform) });
  const separator: TrayMenuItem = { kind: 'separator' };
  const status = overallStatus(services);
  const headline =
    status.level === 'healthy'
      ? `All healthy (${services.length} service${services.length === 1 ? '' : 's'})`
      : capitalize(healthSummary(services));
  const menu: TrayMenuItem[] = [line(headline)];
  const shown = status.problems.slice(0, SHOWN_PROBLEMS);
  for (const p of shown) menu.push(line(`${p.name}: ${p.what}`));
  if (status.problems.length > shown.length)
    menu.push(line(`and ${status.problems.length - shown.length} more`));
  menu.push(
    line(input.openAlerts > 0 || input.openAlertsCapped ? `${alertsText(input)} open` : 'No open alerts'),
  );
  menu.push(separator, { kind: 'action', label: 'Open Vigil', enabled: true, action: { type: 'open' } });

  menu.push(separator);
  const traders = services.filter((s) => s.kind === 'trader');
  if (traders.length === 0) menu.push(line('No trader configured'));
  const named = traders.length > 1;
  for (const t of traders) {
    const busy = input.busy?.includes(t.name) ?? false;
    menu.push(line(`${t.name}: ${t.state}, ${tradesWhat(t)}`));
    menu.push(
      {
        kind: 'action',
        // The ellipsis: a confirmation follows, naming the mode and the symbols.
        label: menuText(named ? `Start trading with ${t.name}…` : 'Start trading…', platform),
        enabled: !busy && canStart(t.state),
        action: { type: 'start-trading', service: t.name },
      },
      {
        kind: 'action',
        label: menuText(named ? `Stop trading with ${t.name}` : 'Stop trading', platform),
        enabled: !busy && canStop(t.state),
        action: { type: 'stop-trading', service: t.name },
      },
    );
  }
  menu.push(separator, { kind: 'action', label: 'Quit Vigil', enabled: true, action: { type: 'quit' } });
  return menu;
}

/**
 * What the native confirmation says before a trader starts: the mode first (LIVE means real money),
 * then the symbols, as the window's own confirmation does (TraderCard).
 */
export function startTradingPrompt(service: ServiceInfo): { message: string; detail: string } {
  const mode = traderMode(service);
  const symbols = traderSymbols(service);
  const word = modeWord(service);
  const message =
    mode.mode === 'unknown'
      ? `Start trading with ${service.name}? Its mode is unknown.`
      : `Start ${word} trading with ${service.name}?`;
  const explain =
    mode.mode === 'live'
      ? 'Real orders with real money on the exchange.'
      : mode.mode === 'paper'
        ? mode.source === 'default'
          ? 'Simulated orders: this service does not set config.mode, and the built-in trader defaults to paper.'
          : 'Simulated orders: nothing is sent to an exchange.'
        : mode.source === 'none'
          ? 'This service does not set config.mode: Vigil cannot tell whether it trades on paper or live.'
          : 'config.mode is neither "paper" nor "live": Vigil cannot tell what the program will do.';
  const detail = [
    `Mode: ${word}. ${explain}`,
    `Symbols: ${symbols === null ? 'not set in config.symbols: whatever the program trades by default' : symbols.join(', ')}`,
    '',
    'It keeps trading until you stop it. Quitting Vigil stops it first.',
  ].join('\n');
  return { message, detail };
}

/** One menu line: clipped, and on Windows and Linux with "&" doubled so it is not taken for a mnemonic. */
function menuText(text: string, platform: NodeJS.Platform): string {
  const clipped = clip(text.replace(/\s+/g, ' ').trim(), LINE_MAX);
  return platform === 'darwin' ? clipped : clipped.replaceAll('&', '&&');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
