/** The one place the main window's options are decided, so its security flags are tested in one place. */
import type { BrowserWindowConstructorOptions } from 'electron';

/** Matches the renderer's page background, so the window never flashes white before first paint. */
export const WINDOW_BACKGROUND = '#0d1117';

export interface MainWindowOptionsInput {
  /** Absolute path of the built preload (out/preload/index.cjs). */
  preload: string;
  /** Window icon (used on Linux and Windows; macOS takes the bundle's icon). */
  icon?: string;
}

export function mainWindowOptions({
  preload,
  icon,
}: MainWindowOptionsInput): BrowserWindowConstructorOptions {
  return {
    title: 'Vigil',
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    backgroundColor: WINDOW_BACKGROUND,
    show: false, // shown on ready-to-show
    ...(icon === undefined ? {} : { icon }),
    webPreferences: {
      preload,
      // Checklist items 2-4, 6, 11: the renderer gets no Node, runs isolated and sandboxed. The flags
      // that weaken this (allowRunningInsecureContent, experimentalFeatures, enableBlinkFeatures)
      // are never set at all.
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      safeDialogs: true,
      spellcheck: false,
    },
  };
}
