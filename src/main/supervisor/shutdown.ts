/**
 * The order and the time bounds of stopping every service when Vigil ends (desktop quit and headless
 * shutdown alike, through Supervisor.close): traders first, so a trader can cancel its orders while
 * its market data still flows, then the other services one at a time in the exact reverse of the
 * order the supervisor starts them in (every dependent before what it depends on). Every step is
 * bounded: a stop that overruns its budget has its tree killed, a kill that hangs is given up on, and
 * at the end every service's tree is checked gone with the OS (killed once more if not).
 */
import type { ServiceKind, ServiceState } from '../../shared/services';

export interface StoppableService {
  readonly name: string;
  readonly kind: ServiceKind;
  /** Read when the plan is made: a stopped or fatal service has nothing to stop. */
  readonly state: ServiceState;
  /** Its definition's stop.timeoutMs: how long its own graceful stop waits before it escalates. */
  readonly stopTimeoutMs: number;
  /** The graceful stop (stop message, stop signal, SIGKILL after its own timeout, verified). */
  stop(): Promise<unknown>;
  /** SIGKILL to its whole tree now, even while stop() is under way. */
  kill(): Promise<unknown>;
  /** True once no process of its tree remains, as the OS says. */
  isGone(): Promise<boolean>;
}

/**
 * A stop may take this much longer than its own timeout before it counts as hung: its own escalation
 * needs that long (killTree verifies for up to 5 s, the exit report is awaited for up to 2 s).
 */
export const STOP_MARGIN_MS = 8_000;
/** How long a kill, or the final check of one service, may take before it is given up on. */
export const KILL_WAIT_MS = 6_000;

export interface ShutdownPhase {
  services: StoppableService[];
  /** After this long the phase's unfinished stops are killed. */
  budgetMs: number;
}

export interface ShutdownReport {
  /** The services stopped, phase by phase, in the order they were stopped. */
  order: string[][];
  /** Stops that overran their budget: their trees were killed. */
  overran: string[];
  /** Services whose tree was still there after every attempt (the final check). */
  survivors: string[];
}

const hasProcess = (s: StoppableService): boolean => s.state !== 'stopped' && s.state !== 'fatal';

/**
 * Phases for services listed in start order: every running trader at once, then each other service
 * with something to stop, last started first.
 */
export function shutdownPhases(inStartOrder: readonly StoppableService[]): ShutdownPhase[] {
  const active = inStartOrder.filter(hasProcess);
  const traders = active.filter((s) => s.kind === 'trader');
  const rest = active.filter((s) => s.kind !== 'trader').reverse();
  const phase = (services: StoppableService[]): ShutdownPhase => ({
    services,
    budgetMs: Math.max(...services.map((s) => s.stopTimeoutMs)) + STOP_MARGIN_MS,
  });
  return [...(traders.length > 0 ? [phase(traders)] : []), ...rest.map((s) => phase([s]))];
}

/** The longest stopInOrder can take for these services: every phase overrunning, every kill hanging. */
export function shutdownBudgetMs(inStartOrder: readonly StoppableService[]): number {
  const phases = shutdownPhases(inStartOrder);
  // Each phase: its budget, then a kill; at the end: the check, a kill and a second check.
  return phases.reduce((total, p) => total + p.budgetMs + KILL_WAIT_MS, 0) + 3 * KILL_WAIT_MS;
}

/** Stops the services (listed in start order) phase by phase; resolves once all are confirmed gone or given up on. */
export async function stopInOrder(
  inStartOrder: readonly StoppableService[],
  log: (message: string, error: unknown) => void = (message, error) => console.error(message, error),
): Promise<ShutdownReport> {
  const report: ShutdownReport = { order: [], overran: [], survivors: [] };
  const quietly = (what: string, work: () => Promise<unknown>): Promise<unknown> =>
    work().catch((error: unknown) => log(`[shutdown] ${what} failed:`, error));
  const kill = (services: StoppableService[]): Promise<unknown> =>
    within(Promise.all(services.map((s) => quietly(`killing ${s.name}`, () => s.kill()))), KILL_WAIT_MS);

  for (const phase of shutdownPhases(inStartOrder)) {
    report.order.push(phase.services.map((s) => s.name));
    const pending = new Set(phase.services);
    const stops = phase.services.map((s) =>
      quietly(`stopping ${s.name}`, () => s.stop()).then(() => pending.delete(s)),
    );
    if (await within(Promise.all(stops), phase.budgetMs)) continue;
    const hung = [...pending];
    report.overran.push(...hung.map((s) => s.name));
    await kill(hung);
  }

  // Whatever the stops said, the OS has the last word: every tree, stopped now or not, must be gone.
  const notGone = async (services: readonly StoppableService[]): Promise<StoppableService[]> => {
    const gone = await Promise.all(
      services.map((s) =>
        withinValue(
          s.isGone().catch(() => false),
          KILL_WAIT_MS,
          false,
        ),
      ),
    );
    return services.filter((_, i) => !gone[i]);
  };
  let left = await notGone(inStartOrder);
  if (left.length > 0) {
    await kill(left);
    left = await notGone(left);
  }
  report.survivors = left.map((s) => s.name);
  return report;
}

/** True if `work` settled within `ms`; the timer never outlives the wait. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withinValue(
    work.then(() => true),
    ms,
    false,
  );
}

async function withinValue<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
