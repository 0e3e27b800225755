/**
 * What the window's close button does. With `desktop.closeToTray` (the default) the window hides and
 * Vigil keeps supervising. Without it, closing quits — through the quit sequence, so the window stays
 * until the services are down — except on macOS, where the window closes and the app stays in the
 * Dock as Mac apps do. While a quit asks or stops services, the window stays (it shows them stopping);
 * once the quit is done it closes. The Dock icon is never hidden: kept simple on purpose.
 */
import type { QuitPhase } from './quit-sequence';

export type CloseAction = 'close' | 'hide' | 'keep' | 'quit';

export function windowCloseAction(
  closeToTray: boolean,
  quit: QuitPhase,
  platform: NodeJS.Platform,
): CloseAction {
  if (quit === 'done') return 'close';
  if (quit !== 'running') return 'keep';
  if (closeToTray) return 'hide';
  return platform === 'darwin' ? 'close' : 'quit';
}

interface PreventableEvent {
  preventDefault(): void;
}

export interface ClosableWindow {
  on(event: 'close', listener: (event: PreventableEvent) => void): unknown;
  hide(): void;
}

export interface WindowCloseDeps {
  /** Read at each close, so a changed setting applies at once. */
  closeToTray(): boolean;
  quitPhase(): QuitPhase;
  platform: NodeJS.Platform;
  /** Starts the quit sequence (app.quit). */
  quit(): void;
}

export function guardWindowClose(window: ClosableWindow, deps: WindowCloseDeps): void {
  window.on('close', (event) => {
    const action = windowCloseAction(deps.closeToTray(), deps.quitPhase(), deps.platform);
    if (action === 'close') return;
    event.preventDefault();
    if (action === 'hide') window.hide();
    else if (action === 'quit') deps.quit();
  });
}
