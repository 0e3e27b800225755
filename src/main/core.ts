/**
 * The supervisor core: everything that decides anything, with no Electron in it. The desktop app and
 * `npm run headless` both create one and put a transport in front of it.
 */
import { arch, platform } from 'node:process';
import type { AppInfo } from '../shared/api';
import type { ServiceDefinition } from '../shared/service-definition';
import { EventHub } from './api/event-hub';
import { createHandlers } from './api/handlers';
import { createRouter, type Router } from './api/router';
import { Supervisor, type SupervisorOptions } from './supervisor/supervisor';
import { version } from '../../package.json';

export interface CoreOptions {
  mode: AppInfo['mode'];
  dataDir: string;
  servicesDir: string;
  electronVersion?: string | null;
  /** Defaults to the saved definitions, else the built-in set; tests pass their own. */
  definitions?: ServiceDefinition[];
  /** Passed to the supervisor (tests shorten intervals, turn autostart off). */
  supervisor?: Partial<Pick<SupervisorOptions, 'autostart' | 'sampleIntervalMs' | 'metricsIntervalMs'>>;
}

export interface Core {
  readonly router: Router;
  readonly events: EventHub;
  readonly supervisor: Supervisor;
  info(): AppInfo;
  /** Stops every service (traders first); call before the process exits. */
  close(): Promise<void>;
}

/** Takes the data directory (one supervisor per directory), clears leftovers, starts autostart services. */
export async function createCore(opts: CoreOptions): Promise<Core> {
  const events = new EventHub();
  const supervisor = await Supervisor.open({
    dataDir: opts.dataDir,
    servicesDir: opts.servicesDir,
    events,
    ...(opts.definitions ? { definitions: opts.definitions } : {}),
    ...opts.supervisor,
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
  const router = createRouter(createHandlers({ appInfo: info, supervisor }));
  return { router, events, supervisor, info, close: () => supervisor.close() };
}
