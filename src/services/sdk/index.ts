/**
 * The child SDK: what every built-in program uses to talk to the supervisor (docs/child-protocol.md).
 * It announces readiness, sends heartbeats and metrics, hands pause/resume/reload to the program,
 * turns a stop request (or SIGTERM) into one graceful shutdown, and exits by itself when the
 * supervisor is gone, so a crashed or killed supervisor leaves no orphans (supervision.md c8.1).
 */
import type { Bus } from '../bus/types';
import { EmbeddedBus } from '../bus/embedded';
import { busConfigFromEnv, busMetrics, busReporter, openBus } from './bus';
import { withSampling } from './bus-sampler';
import type { ChildMessage, ParentMessage } from '../../shared/child-protocol';
import { EXIT_CONFIG_ERROR, HEARTBEAT_INTERVAL_MS, childEnv } from '../../shared/child-protocol';

export interface ChildOptions {
  /** Sent as a `metrics` message with every heartbeat. */
  metrics?: () => Record<string, number>;
  /** App facts for each heartbeat, e.g. `{ lastMarketMsgAt }` so the supervisor can judge staleness. */
  heartbeatPayload?: () => Record<string, unknown>;
  /** Called once on stop; the process exits when it settles. */
  onStop?: (reason: string) => void | Promise<void>;
  /** Stop taking new work; heartbeats go on (paused is not hung). */
  onPause?: () => void | Promise<void>;
  onResume?: () => void | Promise<void>;
  /** Apply a new configuration; `ready` is sent again when it settles. */
  onReload?: (config: unknown) => void | Promise<void>;
  /**
   * A supervisor `request`: what it returns (or resolves to) is the reply's result; what it throws is
   * the reply's error (its message, and `code` and `field` when the error has them). Requests are not
   * serialized: each is answered when its promise settles.
   */
  onRequest?: (method: string, params: unknown) => unknown;
}

export interface Child {
  readonly service: string;
  readonly dataDir: string | null;
  ready(detail?: unknown): void;
  metrics(values: Record<string, number>): void;
  /** Readiness, not liveness: degraded is shown and alerted, never restarted. */
  status(health: 'healthy' | 'degraded', message?: string): void;
  /** Reports something unasked to the supervisor (an `event` message); keep `data` to a few kB. */
  event(name: string, data?: unknown): void;
  /** Ends the process after the stop handler, with this exit code. */
  stop(reason: string, code?: number): Promise<void>;
  /** The market-data bus the supervisor assigned (opened on first use; its counters go with the metrics). */
  bus(): Promise<Bus>;
  /** The program's configuration from its definition (VIGIL_CONFIG), or null when it has none. */
  readonly config: unknown;
}

/** How often to look for the supervisor's pid; with the grace below, an orphan is gone within 2 s. */
const PARENT_POLL_MS = 500;
/** Without a supervisor nobody will SIGKILL a stop handler that hangs: cut it short ourselves. */
const ORPHAN_STOP_GRACE_MS = 1_400;

export function startChild(options: ChildOptions = {}): Child {
  const send = (message: ChildMessage): void => {
    // No channel means the program was started by hand: it still runs, it just has no one to tell.
    if (!process.connected || !process.send) return;
    // The callback keeps a channel that closes mid-send from becoming an 'error' event.
    process.send(message, undefined, undefined, () => undefined);
  };

  let bus: Promise<Bus> | null = null;
  let openedBus: Bus | null = null;
  let embedded: EmbeddedBus | null = null;
  // Publishers the supervisor announced after launch (a service added later); kept until the bus opens.
  const laterPeers: string[] = [];
  const getBus = (): Promise<Bus> => {
    bus ??= (async () => {
      const config = busConfigFromEnv();
      if (!config) throw new Error('no bus: this program was not started by Vigil with the vigil protocol');
      const service = process.env[childEnv.service] ?? `pid-${process.pid}`;
      const withLater =
        config.backend === 'embedded' ? { ...config, peers: [...config.peers, ...laterPeers] } : config;
      const raw = await openBus(withLater, service);
      if (raw instanceof EmbeddedBus) {
        embedded = raw;
        for (const peer of laterPeers) raw.addPeer(peer); // announced while the bus was opening
      }
      openedBus = withSampling(raw, service);
      return openedBus;
    })();
    return bus;
  };
  const addPeers = (peers: string[]): void => {
    for (const peer of peers) {
      if (typeof peer !== 'string') continue;
      if (embedded) embedded.addPeer(peer);
      else if (!laterPeers.includes(peer)) laterPeers.push(peer);
    }
  };

  const removePeers = (peers: string[]): void => {
    for (const peer of peers) {
      embedded?.removePeer(peer);
      const i = laterPeers.indexOf(peer);
      if (i >= 0) laterPeers.splice(i, 1);
    }
  };

  let stopping: Promise<void> | null = null;
  const stop = (reason: string, code = 0): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(heartbeat);
      clearInterval(watchdog);
      try {
        await options.onStop?.(reason);
      } catch (error) {
        console.error(`stop handler failed: ${String(error)}`);
        code = code || 1;
      }
      await openedBus?.close().catch(() => undefined);
      process.exit(code);
    })();
    return stopping;
  };
  let orphan = false;
  const orphaned = (why: string): void => {
    if (orphan) return;
    orphan = true;
    setTimeout(() => {
      console.error(`${why}: stop handler took too long, exiting`);
      process.exit(1);
    }, ORPHAN_STOP_GRACE_MS).unref();
    void stop(why);
  };

  const reportBus = busReporter();
  const beat = (): void => {
    const payload = attempt('heartbeat payload', options.heartbeatPayload);
    send({ type: 'heartbeat', at: Date.now(), ...(payload ? { payload } : {}) });
    const values = attempt('metrics', options.metrics);
    const bus = openedBus?.metrics();
    const withBus = bus ? { ...values, ...busMetrics(bus) } : values;
    if (withBus) send({ type: 'metrics', values: withBus });
    if (bus) send({ type: 'bus', subscribers: reportBus(bus) });
  };
  const heartbeat = setInterval(beat, heartbeatInterval());

  // The supervisor may die without the channel closing cleanly (or there may be no channel): poll too.
  const parentPid = Number(process.env[childEnv.parentPid]);
  const watchParent = Number.isInteger(parentPid) && parentPid > 0;
  // Re-parenting (to init or a subreaper) is a sure sign, and it cannot be fooled by pid reuse.
  const watchPpid = watchParent && process.ppid === parentPid;
  const watchdog = setInterval(() => {
    if (!watchParent) return;
    if ((watchPpid && process.ppid !== parentPid) || !isAlive(parentPid)) orphaned('supervisor is gone');
  }, PARENT_POLL_MS);
  watchdog.unref();

  let lastReady: { detail?: unknown } | null = null;
  // Acknowledging pause/resume must not paper over a degraded state the program reported.
  let health: 'healthy' | 'degraded' = 'healthy';
  // Control requests run one at a time, in order: a resume never overtakes the pause before it.
  let control: Promise<void> = Promise.resolve();
  const handle = (what: string, run: () => Promise<void>): void => {
    control = control.then(run).catch((error: unknown) => {
      health = 'degraded';
      send({ type: 'status', health, message: `${what} failed: ${String(error)}`.slice(0, 500) });
    });
  };

  const answer = (id: number, method: string, params: unknown): void => {
    void (async () => {
      if (!options.onRequest) throw new Error(`this program takes no requests (asked ${method})`);
      return options.onRequest(method, params);
    })().then(
      (result: unknown) => send({ type: 'reply', id, result }),
      (error: unknown) => send({ type: 'reply', id, error: replyError(error) }),
    );
  };

  process.on('message', (message: ParentMessage) => {
    switch (message?.type) {
      case 'stop':
        void stop(message.reason);
        break;
      case 'peers':
        if (Array.isArray(message.peers)) addPeers(message.peers);
        if (Array.isArray(message.removed)) removePeers(message.removed);
        break;
      case 'pause':
        handle('pause', async () => {
          await options.onPause?.();
          send({ type: 'status', health, message: 'paused' });
        });
        break;
      case 'resume':
        handle('resume', async () => {
          await options.onResume?.();
          send({ type: 'status', health, message: 'resumed' });
        });
        break;
      case 'request':
        if (typeof message.id === 'number') answer(message.id, message.method, message.params);
        break;
      case 'reload':
        handle('reload', async () => {
          try {
            await options.onReload?.(message.config);
          } finally {
            // Ready again either way: a failed reload keeps the program on its old configuration, and
            // the degraded status that handle() sends next says why (after ready: while reloading,
            // the supervisor does not take a status).
            if (lastReady) send({ type: 'ready', ...lastReady });
          }
        });
        break;
    }
  });
  process.on('disconnect', () => orphaned('supervisor channel closed'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  return {
    service: process.env[childEnv.service] ?? 'unnamed',
    dataDir: process.env[childEnv.dataDir] ?? null,
    ready: (detail) => {
      lastReady = detail === undefined ? {} : { detail };
      send({ type: 'ready', ...lastReady });
    },
    metrics: (values) => send({ type: 'metrics', values }),
    status: (reported, message) => {
      health = reported;
      send(message === undefined ? { type: 'status', health } : { type: 'status', health, message });
    },
    event: (name, data) => send(data === undefined ? { type: 'event', name } : { type: 'event', name, data }),
    stop,
    bus: getBus,
    config: readConfig(),
  };
}

/** A thrown value as a reply's error: its message, and its string `code` and `field` if it has them. */
function replyError(error: unknown): { message: string; code?: string; field?: string } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const message = error instanceof Error ? error.message : String(error);
  return {
    message: message.slice(0, 4000),
    ...(typeof e.code === 'string' ? { code: e.code.slice(0, 64) } : {}),
    ...(typeof e.field === 'string' ? { field: e.field.slice(0, 200) } : {}),
  };
}

function readConfig(): unknown {
  const raw = process.env[childEnv.config];
  if (!raw) return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    // The supervisor writes it with JSON.stringify: unparseable means it was set by hand.
    console.error(`${childEnv.config} is not JSON: ${raw.slice(0, 200)}`);
    process.exit(EXIT_CONFIG_ERROR);
  }
}

/** VIGIL_HEARTBEAT_MS from the service's definition, else the protocol default. */
function heartbeatInterval(): number {
  const configured = Number(process.env[childEnv.heartbeatMs]);
  return Number.isFinite(configured) && configured >= 10 ? configured : HEARTBEAT_INTERVAL_MS;
}

/** Calls a program callback; a throwing one costs its data, never the heartbeat itself. */
function attempt<T>(what: string, callback: (() => T) | undefined): T | undefined {
  if (!callback) return undefined;
  try {
    return callback();
  } catch (error) {
    console.error(`${what} callback failed: ${String(error)}`);
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else (antivirus, another user); only ESRCH means gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
