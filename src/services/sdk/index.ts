/**
 * The child SDK: what every built-in program uses to talk to the supervisor. It announces readiness,
 * sends heartbeats, turns a stop request (or SIGTERM) into one graceful shutdown, and exits by itself
 * when the supervisor is gone, so a crashed or killed supervisor leaves no orphans.
 */
import type { ChildMessage, ParentMessage } from '../../shared/child-protocol';
import { HEARTBEAT_INTERVAL_MS, childEnv } from '../../shared/child-protocol';

export interface ChildOptions {
  /** Metrics to attach to each heartbeat. */
  metrics?: () => Record<string, number>;
  /** Called once on stop; the process exits when it settles. */
  onStop?: (reason: string) => void | Promise<void>;
}

export interface Child {
  readonly service: string;
  readonly dataDir: string | null;
  ready(detail?: unknown): void;
  /** Ends the process after the stop handler, with this exit code. */
  stop(reason: string, code?: number): Promise<void>;
}

export function startChild(options: ChildOptions = {}): Child {
  const send = (message: ChildMessage): void => {
    // No channel means the program was started by hand: it still runs, it just has no one to tell.
    if (process.connected && process.send) process.send(message);
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
      process.exit(code);
    })();
    return stopping;
  };

  const heartbeat = setInterval(() => {
    send({ type: 'heartbeat', at: Date.now(), ...(options.metrics ? { metrics: options.metrics() } : {}) });
  }, HEARTBEAT_INTERVAL_MS);

  // The supervisor may die without closing the channel cleanly (SIGKILL, crash): poll for it too.
  const parentPid = Number(process.env[childEnv.parentPid]);
  const watchdog = setInterval(() => {
    if (Number.isInteger(parentPid) && parentPid > 0 && !isAlive(parentPid)) void stop('supervisor is gone');
  }, 1000);
  watchdog.unref();

  process.on('message', (message: ParentMessage) => {
    if (message?.type === 'stop') void stop(message.reason);
  });
  process.on('disconnect', () => void stop('supervisor channel closed'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  return {
    service: process.env[childEnv.service] ?? 'unnamed',
    dataDir: process.env[childEnv.dataDir] ?? null,
    ready: (detail) => send(detail === undefined ? { type: 'ready' } : { type: 'ready', detail }),
    stop,
  };
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
