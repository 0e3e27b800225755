/**
 * Checklist items 5, 12-14: what a page may do beyond rendering. Navigation stays on the app's own
 * origin, new windows are never created (allowlisted https links go to the user's browser instead),
 * <webview> never attaches, and every permission request or check is denied.
 */
import { isAllowedOrigin } from './origins';

interface PreventableEvent {
  preventDefault(): void;
}

interface NavigationEvent extends PreventableEvent {
  readonly url: string;
}

/** The parts of Electron's WebContents the guards hook into. */
export interface GuardedContents {
  on(
    event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect',
    listener: (event: NavigationEvent) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
}

export interface WebGuardOptions {
  /** Origins the page may navigate within (see appOrigins). */
  origins: readonly string[];
  /** Called for links that try to open a new window; decides itself whether to open them externally. */
  openExternal(url: string): void;
}

/** Installs every guard on one webContents (call it from app's 'web-contents-created'). */
export function guardWebContents(contents: GuardedContents, options: WebGuardOptions): void {
  const keepOnAppOrigin = (event: NavigationEvent): void => {
    if (!isAllowedOrigin(event.url, options.origins)) event.preventDefault();
  };
  contents.on('will-navigate', keepOnAppOrigin);
  contents.on('will-frame-navigate', keepOnAppOrigin); // iframes too
  contents.on('will-redirect', keepOnAppOrigin); // an allowed navigation must not redirect away
  contents.on('will-attach-webview', (event) => event.preventDefault());
  // The app has one window; a second one would not be an "own window" for IPC anyway.
  contents.setWindowOpenHandler(({ url }) => {
    if (!isAllowedOrigin(url, options.origins)) options.openExternal(url);
    return { action: 'deny' };
  });
}

/** The parts of Electron's Session the permission guard sets. */
export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (contents: unknown, permission: string) => boolean): void;
  setDevicePermissionHandler(handler: () => boolean): void;
}

/** Vigil needs no camera, microphone, notifications-from-web, geolocation, devices…: deny them all. */
export function denyAllPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
