/**
 * The supervisor core: everything that decides anything, with no Electron in it. The desktop app and
 * `npm run headless` both create one and put a transport in front of it.
 */
import { mkdirSync } from 'node:fs';
import { arch, platform } from 'node:process';
import type { AppInfo } from '../shared/api';
import type { ServiceDefinition } from '../shared/service-definition';
import type { Settings } from '../shared/settings';
import { ConfigService, loadSettings } from './api/config-service';
import { EventHub } from './api/event-hub';
import { createHandlers } from './api/handlers';
import { OptimizerService } from './api/optimizer-service';
import { HistoryService } from './api/history-service';
import { MarketService } from './api/market-service';
import { TraderService } from './api/trader-service';
import { createObservability, type Observability } from './api/observability';
import { createRouter, type Router } from './api/router';
import { moveAside } from './store/database';
import { StoreError } from './store/store-error';
import { ControlStore } from './store/store';
import { acquireDataDirLock } from './supervisor/data-dir-lock';
import {
  builtinPrograms,
  defaultDefinitions,
  demoDefinitions,
  type DemoPorts,
} from './supervisor/definitions';
import { Supervisor, type SupervisorOptions, type SupervisorRecorder } from './supervisor/supervisor';
import { version } from '../../package.json';

export interface CoreOptions {
  mode: AppInfo['mode'];
  dataDir: string;
  servicesDir: string;
  electronVersion?: string | null;
  /** Replaces the stored definitions for this run (tests). */
  definitions?: ServiceDefinition[];
  /** control.db is unreadable or corrupt: move it aside (kept, renamed) and start fresh. */
  recoverStore?: boolean;
  /** Run the market simulator and point the collectors at it (their definitions are overwritten). */
  demo?: boolean;
  /** Where the demo's simulator listens (tests pick free ports). */
  demoPorts?: DemoPorts;
  /** Passed to the supervisor (tests shorten intervals, turn autostart off). */
  supervisor?: Partial<Pick<SupervisorOptions, 'autostart' | 'sampleIntervalMs' | 'metricsIntervalMs'>>;
}

export interface Core {
  readonly router: Router;
  readonly events: EventHub;
  readonly supervisor: Supervisor;
  readonly store: ControlStore;
  /** /health and /metrics, for whichever transport serves them. */
  readonly ops: Observability;
  info(): AppInfo;
  settings(): Settings;
  /** Stops every service (traders first), writes what is queued; call before the process exits. */
  close(): Promise<void>;
}

/**
 * Takes the data directory (one Vigil per directory), opens control.db, kills what a crashed run
 * left behind, then starts the autostart services. Throws StoreError or DataDirLockedError with a
 * message that names the file and the way forward.
 */
export async function createCore(opts: CoreOptions): Promise<Core> {
  mkdirSync(opts.dataDir, { recursive: true });
  const lock = acquireDataDirLock(opts.dataDir);
  let store: ControlStore | null = null;
  try {
    store = openStore(opts);
    const s = store;
    const config = s.config;
    if (config.isFresh() && !opts.definitions) {
      // First run: the default services, kept in the database from now on.
      for (const def of defaultDefinitions(opts.servicesDir)) config.putService(def);
    }
    if (opts.demo && !opts.definitions) {
      for (const def of demoDefinitions(opts.servicesDir, opts.demoPorts)) config.putService(def);
    }
    const events = new EventHub();
    // Settings before the supervisor: autostarted children already need the bus and the sampling rate.
    const initial = loadSettings(config);
    // The supervisor records from its first start on, so the history comes first; it asks the
    // supervisor's sampling rate only when a series is queried.
    let sampler: Supervisor | null = null;
    const history = new HistoryService(
      s,
      events,
      () => sampler?.sampleIntervalMs ?? initial.history.sampleIntervalMs,
    );
    const recorder: SupervisorRecorder = {
      saveDefinition: (def) => config.putService(def),
      removeDefinition: (name) => config.removeService(name),
      transition: (t) => history.recordTransition(t),
      alert: (a) => history.raiseAlert(a),
      alertCleared: (service, kind, at) => history.clearAlerts(service, kind, at),
      samples: (at, values) => s.history.recordSamples(at, values),
    };
    const stored = opts.definitions ?? config.listServices();
    const supervisor = await Supervisor.open({
      dataDir: opts.dataDir,
      servicesDir: opts.servicesDir,
      events,
      definitions: stored,
      recorder,
      bus: initial.bus,
      sampleIntervalMs: initial.history.sampleIntervalMs,
      ...opts.supervisor,
    });
    sampler = supervisor;
    const configService = new ConfigService(config, supervisor, events, (settings) => {
      s.setRetention(settings.retention);
      supervisor.setSampleInterval(settings.history.sampleIntervalMs);
      supervisor.setBus(settings.bus);
    });
    s.setRetention(initial.retention);

    // Market health: reads market/<venue>.db; carries top of book only while a client watches it.
    const market = new MarketService({
      dataDir: opts.dataDir,
      events,
      watchBus: (pattern, handler) => supervisor.watchBus(pattern, handler),
    });

    // Parameter searches: stored here, computed by the optimizer service; resumes what a crash left.
    const optimizer = new OptimizerService({ repo: s.optimizer, supervisor, events });

    // Traders: their commands, events, alerts and market-data health; a stopped one read from trader.db.
    const trader = new TraderService({ dataDir: opts.dataDir, supervisor, events });

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
      demo: opts.demo ?? false,
    });
    const router = createRouter(
      createHandlers({
        appInfo: info,
        supervisor,
        history,
        config: configService,
        market,
        optimizer,
        trader,
        programs: () => builtinPrograms(opts.servicesDir),
      }),
    );
    const ops = createObservability({
      app: info,
      services: () => supervisor.list(),
      optimizer: () => optimizer.summary(),
      traders: () => trader.live(),
    });
    let closing: Promise<void> | null = null;
    return {
      router,
      events,
      supervisor,
      store: s,
      ops,
      info,
      settings: () => configService.settings(),
      close: () =>
        (closing ??= (async () => {
          await market.close();
          await supervisor.close();
          optimizer.close();
          trader.close();
          s.close();
          lock.release();
        })()),
    };
  } catch (error) {
    store?.close();
    lock.release();
    throw error;
  }
}

function openStore(opts: CoreOptions): ControlStore {
  try {
    return ControlStore.open(opts.dataDir);
  } catch (error) {
    const recoverable =
      error instanceof StoreError && (error.code === 'corrupt' || error.code === 'unreadable');
    if (!opts.recoverStore || !recoverable) throw error;
    const aside = moveAside(error.file);
    console.warn(`vigil: ${error.file} could not be used; moved it to ${aside} and started fresh`);
    return ControlStore.open(opts.dataDir);
  }
}
