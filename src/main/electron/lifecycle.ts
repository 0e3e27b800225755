/** App lifecycle pieces with decisions in them, kept out of index.ts so plain Node can test them. */

interface PreventableEvent {
  preventDefault(): void;
}

export interface QuittingApp {
  on(event: 'before-quit', listener: (event: PreventableEvent) => void): unknown;
  quit(): void;
}

/**
 * Quitting waits for the core to stop its services: the first quit is held back, the core closed,
 * then the app quits for real. Quit requests while closing are held too (they would skip the wait).
 */
export function closeBeforeQuit(
  app: QuittingApp,
  close: () => Promise<void>,
  log: (message: string, error: unknown) => void = (message, error) => console.error(message, error),
): void {
  let state: 'running' | 'closing' | 'closed' = 'running';
  app.on('before-quit', (event) => {
    if (state === 'closed') return;
    event.preventDefault();
    if (state === 'closing') return;
    state = 'closing';
    close()
      .catch((error: unknown) => log('[app] shutdown failed; quitting anyway:', error))
      .finally(() => {
        state = 'closed';
        app.quit();
      });
  });
}

export interface FocusableWindow {
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  focus(): void;
}

/** A second launch brings the running instance's window to the front instead of starting another. */
export function focusWindow(window: FocusableWindow | null): void {
  if (window === null || window.isDestroyed()) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}
