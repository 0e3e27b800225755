/**
 * The Electron entry: wires Electron's objects to the supervisor core and to the modules in
 * ./electron, which hold every decision (and their tests). Keep this file free of logic.
 */
import { join } from 'node:path';
import {
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  app,
  dialog,
  ipcMain,
  nativeImage,
  protocol,
  session,
  shell,
} from 'electron';
import type { NativeImage } from 'electron';
import { internalClient } from './api/internal-client';
import { createCore, type Core } from './core';
import { StoreError } from './store/store-error';
import { createAlertNotifier } from './electron/alert-notifier';
import { APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './electron/app-protocol';
import { openExternalSafely } from './electron/external-links';
import { registerIpc } from './electron/ipc';
import { focusWindow } from './electron/lifecycle';
import { followStartAtLogin, launchCommand } from './electron/login-item';
import { APP_ENTRY_URL, APP_SCHEME, appOrigins } from './electron/origins';
import { installQuitSequence, quitQuestion, STOP_AND_QUIT } from './electron/quit-sequence';
import { createTrayController } from './electron/tray-controller';
import { denyAllPermissions, guardWebContents } from './electron/web-guards';
import { guardWindowClose } from './electron/window-close';
import { mainWindowOptions } from './electron/window-options';
import { urlForRoute } from './electron/window-route';
import { buildPaths } from './paths';
import { followHealthPort } from './server/health-port';

// Both must happen before 'ready'.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();
// Windows shows notifications only for a known app id: electron-builder.yml's appId, which the
// installer gives the Start menu shortcut.
if (process.platform === 'win32') app.setAppUserModelId('dev.vigil.app');

if (!app.requestSingleInstanceLock()) {
  app.quit(); // another Vigil is running; it focuses its window (see 'second-instance')
} else {
  start();
}

function start(): void {
  const paths = buildPaths(import.meta.url);
  // The dev server's URL is trusted only in an unpackaged (development) app.
  const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
  const origins = appOrigins(devServerUrl);
  const entryUrl = devServerUrl ?? APP_ENTRY_URL;
  const ownContents = new Set<number>();
  let mainWindow: BrowserWindow | null = null;

  app.on('web-contents-created', (_event, contents) =>
    guardWebContents(contents, { origins, openExternal: (url) => openExternalSafely(shell, url) }),
  );
  app.on('second-instance', () => focusWindow(mainWindow));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  const createWindow = (route?: string): BrowserWindow => {
    const icon = process.platform === 'linux' ? resourcePath('icon.png') : undefined;
    const window = new BrowserWindow(
      mainWindowOptions({ preload: join(paths.preloadDir, 'index.cjs'), icon }),
    );
    const contentsId = window.webContents.id;
    ownContents.add(contentsId);
    window.once('ready-to-show', () => window.show());
    window.on('closed', () => {
      ownContents.delete(contentsId);
      if (mainWindow === window) mainWindow = null;
    });
    const url = route === undefined ? null : urlForRoute('about:blank', route, entryUrl, origins);
    void window.loadURL(url ?? entryUrl);
    return window;
  };
  const showWindow = (): void => {
    mainWindow ??= createWindow(); // macOS and the tray: the window may have been closed
    focusWindow(mainWindow);
  };
  // See window-route.ts: the route goes in as the URL's fragment, a same-document navigation.
  const openAt = (route: string): void => {
    if (mainWindow === null || mainWindow.isDestroyed()) mainWindow = createWindow(route);
    else {
      const url = urlForRoute(mainWindow.webContents.getURL(), route, entryUrl, origins);
      if (url !== null) void mainWindow.webContents.loadURL(url);
    }
    focusWindow(mainWindow);
  };

  void app.whenReady().then(async () => {
    let core: Core;
    const open = (recoverStore: boolean) =>
      createCore({
        mode: 'desktop',
        dataDir: app.getPath('userData'),
        servicesDir: paths.servicesDir,
        electronVersion: process.versions.electron ?? null,
        recoverStore,
      });
    try {
      core = await open(false);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const recoverable =
        error instanceof StoreError && (error.code === 'corrupt' || error.code === 'unreadable');
      // A bad control.db is never wiped silently: the person chooses, and the file is kept.
      const choice = recoverable
        ? dialog.showMessageBoxSync({
            type: 'error',
            title: 'Vigil cannot open its database',
            message,
            buttons: ['Move it aside and start fresh', 'Quit'],
            defaultId: 1,
            cancelId: 1,
          })
        : 1;
      if (!recoverable) dialog.showErrorBox('Vigil cannot start', message);
      if (choice !== 0) {
        app.exit(1);
        return;
      }
      core = await open(true);
    }
    denyAllPermissions(session.defaultSession);
    // /health and /metrics on 127.0.0.1:<ports.health> when that setting is on (off by default).
    const healthPort = followHealthPort({
      events: core.events,
      settings: () => core.settings(),
      ops: core.ops,
    });
    protocol.handle(APP_SCHEME, createAppProtocolHandler(paths.rendererDir));
    const ipc = registerIpc({
      ipcMain,
      router: core.router,
      events: core.events,
      origins,
      isOwnWindow: (contents) => ownContents.has(contents.id),
    });
    const api = internalClient(core.router, core.events);
    const tray = createTrayController<NativeImage, Menu>({
      api,
      platform: process.platform,
      createTray: (image) => new Tray(image),
      image: (file) => nativeImage.createFromPath(resourcePath(join('tray', file))),
      buildMenu: (template) => Menu.buildFromTemplate(template),
      confirm: async (message, detail) => {
        const { response } = await dialog.showMessageBox({
          type: 'warning',
          message,
          detail,
          buttons: ['Start trading', 'Cancel'],
          defaultId: 1, // Enter must not start a trader
          cancelId: 1,
          noLink: true,
        });
        return response === 0;
      },
      openWindow: showWindow,
      quit: () => app.quit(),
      showError: (title, message) => dialog.showErrorBox(title, message),
    });
    const notifier = Notification.isSupported()
      ? createAlertNotifier({
          api,
          notify: (options) => new Notification(options),
          openAt,
          windowFocused: () => mainWindow !== null && !mainWindow.isDestroyed() && mainWindow.isFocused(),
        })
      : null;
    // Quit: asks while a trader runs, stops every service in order, then quits (quit-sequence.ts).
    const quit = installQuitSequence({
      app,
      services: () => core.supervisor.list(),
      confirm: async (trading) => {
        const parent = mainWindow?.isVisible() ? mainWindow : null; // hidden in the tray: no sheet
        const question = quitQuestion(trading);
        const answer = await (parent
          ? dialog.showMessageBox(parent, question)
          : dialog.showMessageBox(question));
        return answer.response === STOP_AND_QUIT;
      },
      // The window keeps its events while the services stop, so it shows them stopping.
      shutdown: async () => {
        await healthPort.close();
        notifier?.dispose();
        await core.close();
        tray.dispose();
        ipc.dispose();
      },
      capMs: () => core.supervisor.shutdownBudgetMs() + 15_000,
      onStopping: () => mainWindow?.setTitle('Vigil — stopping services…'),
    });
    app.on('browser-window-created', (_event, window) =>
      guardWindowClose(window, {
        closeToTray: () => core.settings().desktop.closeToTray,
        quitPhase: () => quit.phase,
        platform: process.platform,
        quit: () => app.quit(),
      }),
    );
    followStartAtLogin(core.events, core.settings(), {
      platform: process.platform,
      setLoginItemSettings: (settings) => app.setLoginItemSettings(settings),
      command: launchCommand({
        isPackaged: app.isPackaged,
        execPath: process.execPath,
        appPath: app.getAppPath(),
        env: process.env,
      }),
      env: process.env,
    });
    mainWindow = createWindow();
    app.on('activate', showWindow); // macOS: the dock icon reopens the window
  });
}

/** Files from resources/: unpacked next to the asar when packaged (extraResources), in the repo in dev. */
function resourcePath(name: string): string {
  return app.isPackaged ? join(process.resourcesPath, name) : join(app.getAppPath(), 'resources', name);
}
