/** App lifecycle pieces with decisions in them, kept out of index.ts so plain Node can test them. */

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
