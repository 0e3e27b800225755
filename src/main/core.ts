/**
 * The supervisor core: everything that decides anything, with no Electron in it. The desktop app and
 * `npm run headless` both create one and put a transport in front of it.
 */
import { mkdirSync } from 'node:fs';
import { arch, platform } from 'node:process';
import type { AppInfo } from '../shared/api';
import { EventHub } from './api/event-hub';
import { createHandlers } from './api/handlers';
import { createRouter, type Router } from './api/router';
import { defaultDefinitions, type ServiceDefinition } from './supervisor/definitions';
import { ServiceManager } from './supervisor/service-manager';
import { version } from '../../package.json';

export interface CoreOptions {
  mode: AppInfo['mode'];
  dataDir: string;
  servicesDir: string;
  electronVersion?: string | null;
  /** Defaults to the built-in set; tests pass their own. */
  definitions?: ServiceDefinition[];
}

export interface Core {
  readonly router: Router;
  readonly events: EventHub;
  readonly services: ServiceManager;
  info(): AppInfo;
  /** Stops every service; call before the process exits. */
  close(): Promise<void>;
}

export function createCore(opts: CoreOptions): Core {
  mkdirSync(opts.dataDir, { recursive: true });
  const events = new EventHub();
  const services = new ServiceManager({
    dataDir: opts.dataDir,
    servicesDir: opts.servicesDir,
    definitions: opts.definitions ?? defaultDefinitions(opts.servicesDir),
    onChange: (info) => events.emit('service.state', info),
  });
  const startedAt = Date.now();
  const info = (): AppInfo => ({
    name: 'Vigil',
    version,
    mode: opts.mode,
    platform,
    arch,
    runtime: { node: process.versions.node, electron: opts.electronVersion ?? null },
    pid: process.pid,
    startedAt,
    dataDir: opts.dataDir,
  });
  const router = createRouter(createHandlers({ appInfo: info, services }));
  let closing: Promise<void> | null = null;
  return {
    router,
    events,
    services,
    info,
    close: () => (closing ??= services.close()),
  };
}
