/**
 * The core's side of the trader program (src/services/trader): the `trader.*` commands, its events,
 * its alerts and the market-data health it is told.
 *
 * - Commands go to the running program over the child protocol (TRADER_METHODS) while it runs
 *   (running, reloading or paused); orders, fills and equity are always read from its database
 *   (trader-history.ts), which the program commits to before it reports anything. A stopped trader's
 *   state comes from that database (running: false), a never-started one's from its configuration.
 * - `trader.limits` is kept in the definition's config.limits (through the supervisor's update, so a
 *   restart keeps it) and applied to the running program at once.
 * - `trader.stop` with flatten asks the program to flatten first and stops it only once it is flat; if
 *   flattening fails it keeps running (a person decides what next) and the error says why.
 * - The program's `trader.snapshot` events become `trader.update`; when it stops, the stored state
 *   follows as one more `trader.update` (running: false). Its `trader.alert` events become alerts in
 *   control.db (kind `trader-<kind>`) with a `service.alert` event; a cleared one clears them.
 * - Market-data health: whenever a collector recording the trader's venue is not running and healthy
 *   (stopped, failing, degraded, ...) the trader is told with `trader.feed` (problem text), and told
 *   null once they all are again; each run of the trader is told afresh.
 */
import { z } from 'zod';
import { parseCollectorConfigs } from '../../shared/collector-config';
import { ApiError } from '../../shared/errors';
import type { ServiceDefinitionInput } from '../../shared/service-definition';
import type { ServiceInfo, ServiceState, ServiceTransitionEvent } from '../../shared/services';
import {
  TRADER_EVENTS,
  TRADER_METHODS,
  traderAlertKinds,
  traderConfigSchema,
  type RiskLimits,
  type TraderConfig,
  type TraderEquityPoint,
  type TraderFill,
  type TraderOrder,
  type TraderPage,
  type TraderSnapshot,
} from '../../shared/trader-api';
import { ChildRequestError } from '../supervisor/child-requests';
import type { Supervisor } from '../supervisor/supervisor';
import type { EventHub } from './event-hub';
import {
  configSnapshot,
  TraderHistory,
  type EquityQuery,
  type FillsQuery,
  type OrdersQuery,
} from './trader-history';

/** The built-in program that trades. */
export const TRADER_PROGRAM = 'trader';
/** A snapshot is a lookup in the program's memory: a trader that takes longer is in trouble. */
const SNAPSHOT_TIMEOUT_MS = 5_000;
const CONTROL_TIMEOUT_MS = 15_000;
/** Flattening waits for every closing order to fill (latency, a quote to fill against). */
const FLATTEN_TIMEOUT_MS = 60_000;

/** States in which the program runs and answers requests. */
const LIVE: ReadonlySet<ServiceState> = new Set<ServiceState>(['running', 'reloading', 'paused']);

const alertSchema = z.object({
  kind: z.enum(traderAlertKinds),
  severity: z.enum(['warning', 'critical']),
  message: z.string().min(1).max(2000),
  cleared: z.boolean().optional(),
});

export interface TraderCommands {
  state(name: string): Promise<TraderSnapshot>;
  orders(q: OrdersQuery): TraderPage<TraderOrder>;
  fills(q: FillsQuery): TraderPage<TraderFill>;
  equity(q: EquityQuery): TraderEquityPoint[];
  limits(name: string, limits: RiskLimits): Promise<TraderSnapshot>;
  opening(name: string, allowed: boolean): Promise<TraderSnapshot>;
  stop(name: string, flatten: boolean): Promise<TraderSnapshot>;
  kill(name: string): Promise<TraderSnapshot>;
}

export interface TraderServiceDeps {
  dataDir: string;
  supervisor: Pick<
    Supervisor,
    'list' | 'get' | 'request' | 'onChildEvent' | 'update' | 'stop' | 'raiseAlert' | 'clearAlert'
  >;
  events: EventHub;
  history?: TraderHistory;
  now?: () => number;
  onError?: (message: string, error: unknown) => void;
}

export class TraderService implements TraderCommands {
  private readonly sup: TraderServiceDeps['supervisor'];
  private readonly events: EventHub;
  private readonly history: TraderHistory;
  private readonly now: () => number;
  private readonly onError: (message: string, error: unknown) => void;
  /** The last snapshot of each running trader (for /metrics). */
  private readonly latest = new Map<string, TraderSnapshot>();
  /** Per running trader, the feed problem it was last told (absent: not told yet this run). */
  private readonly feedTold = new Map<string, string | null>();
  private readonly off: (() => void)[] = [];

  constructor(deps: TraderServiceDeps) {
    this.sup = deps.supervisor;
    this.events = deps.events;
    this.history = deps.history ?? new TraderHistory(deps.dataDir);
    this.now = deps.now ?? Date.now;
    this.onError = deps.onError ?? ((m, e) => console.error(`[trader] ${m}:`, e));
    this.off.push(
      this.sup.onChildEvent((service, event) => {
        if (event.name === TRADER_EVENTS.snapshot) this.onSnapshot(service, event.data);
        else if (event.name === TRADER_EVENTS.alert) this.onAlert(service, event.data);
      }),
      this.events.listen((event, payload) => {
        if (event === 'service.state') this.onServiceState(payload as ServiceInfo);
        else if (event === 'service.transition') this.onTransition(payload as ServiceTransitionEvent);
      }),
    );
  }

  // ---- commands ----

  async state(name: string): Promise<TraderSnapshot> {
    const { info, config } = this.trader(name);
    if (LIVE.has(info.state)) {
      try {
        return await this.ask(name, TRADER_METHODS.snapshot, {}, SNAPSHOT_TIMEOUT_MS);
      } catch (error) {
        // It stopped meanwhile: what it left in its database is the answer.
        if (!(error instanceof ApiError && error.code === 'unavailable')) throw error;
      }
    }
    return this.stored(name, config);
  }

  orders(q: OrdersQuery): TraderPage<TraderOrder> {
    this.trader(q.name);
    return this.history.orders(q);
  }

  fills(q: FillsQuery): TraderPage<TraderFill> {
    this.trader(q.name);
    return this.history.fills(q);
  }

  equity(q: EquityQuery): TraderEquityPoint[] {
    this.trader(q.name);
    if (q.from !== undefined && q.to !== undefined && q.to <= q.from) {
      throw new ApiError('invalid_input', 'to: must be after from', 'to');
    }
    return this.history.equity(q);
  }

  async limits(name: string, limits: RiskLimits): Promise<TraderSnapshot> {
    const { info } = this.trader(name);
    const live = LIVE.has(info.state);
    // Live first: the program checks them too, and a refusal leaves the configuration as it was.
    const snapshot = live ? await this.ask(name, TRADER_METHODS.setLimits, { limits }) : null;
    const current = this.sup.get(name).definition;
    const definition = { ...current, config: { ...(current.config ?? {}), limits } };
    this.sup.update(name, definition as ServiceDefinitionInput, { appliedLive: snapshot !== null });
    return snapshot ?? this.state(name);
  }

  async opening(name: string, allowed: boolean): Promise<TraderSnapshot> {
    this.running(name, allowed ? 'resume opening positions' : 'stop opening positions');
    return this.ask(name, TRADER_METHODS.opening, { allowed });
  }

  async stop(name: string, flatten: boolean): Promise<TraderSnapshot> {
    const { config } = this.trader(name);
    if (flatten) {
      this.running(name, 'flatten its positions');
      try {
        await this.sup.request(name, TRADER_METHODS.flatten, {}, FLATTEN_TIMEOUT_MS);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new ApiError(
          'conflict',
          `${name} could not flatten (${why}): it keeps running, not stopped; try again, or stop it keeping its positions`,
        );
      }
    }
    await this.sup.stop(name);
    return this.stored(name, config);
  }

  async kill(name: string): Promise<TraderSnapshot> {
    this.running(name, 'run the kill switch');
    return this.ask(name, TRADER_METHODS.kill, {}, FLATTEN_TIMEOUT_MS);
  }

  /** The last snapshot of each running trader, for /metrics. */
  live(): TraderSnapshot[] {
    return [...this.latest.values()];
  }

  close(): void {
    for (const off of this.off) off();
    this.latest.clear();
    this.feedTold.clear();
  }

  // ---- what the program reports ----

  private onSnapshot(service: string, data: unknown): void {
    if (!this.isTrader(service) || !isSnapshot(data)) return;
    this.latest.set(service, data);
    this.events.emit('trader.update', { name: service, snapshot: data });
  }

  private onAlert(service: string, data: unknown): void {
    if (!this.isTrader(service)) return;
    const parsed = alertSchema.safeParse(data);
    if (!parsed.success) {
      this.onError(`${service} sent a trader.alert that does not fit the contract`, parsed.error);
      return;
    }
    const a = parsed.data;
    const kind = `trader-${a.kind}` as const;
    if (a.cleared) this.sup.clearAlert(service, kind, a.message);
    else this.sup.raiseAlert({ service, kind, severity: a.severity, message: a.message, at: this.now() });
  }

  private onTransition(t: ServiceTransitionEvent): void {
    if (LIVE.has(t.to) || !this.isTrader(t.service)) return;
    this.latest.delete(t.service);
    this.feedTold.delete(t.service);
    if (t.to !== 'stopped' && t.to !== 'backoff' && t.to !== 'fatal') return;
    // Not trading: its data is no longer paused for staleness.
    this.sup.clearAlert(t.service, 'trader-stale', `${t.service} is ${t.to}`);
    try {
      const { config } = this.trader(t.service);
      this.events.emit('trader.update', { name: t.service, snapshot: this.stored(t.service, config) });
    } catch (error) {
      this.onError(`reading ${t.service}'s state after it stopped`, error);
    }
  }

  // ---- market-data health ----

  private onServiceState(info: ServiceInfo): void {
    if (info.kind === 'collector') {
      for (const name of [...this.feedTold.keys()]) this.tellFeed(name);
    } else if (isTraderProgram(info) && info.state === 'running' && !this.feedTold.has(info.name)) {
      this.tellFeed(info.name);
    }
  }

  private tellFeed(name: string): void {
    let problem: string | null;
    try {
      const { config } = this.trader(name);
      problem = this.feedProblem(config.venue);
    } catch (error) {
      this.onError(`checking the market data of ${name}`, error);
      return;
    }
    // Its first run starts with no problem: only a problem needs telling then.
    const told = this.feedTold.has(name) ? this.feedTold.get(name)! : null;
    this.feedTold.set(name, problem);
    if (problem === told) return;
    this.sup.request(name, TRADER_METHODS.feed, { problem }, CONTROL_TIMEOUT_MS).catch((error: unknown) => {
      // Not told: told again at the next change (or its next run).
      if (this.feedTold.get(name) === problem) this.feedTold.set(name, told);
      this.onError(`telling ${name} about its market data`, error);
    });
  }

  /** Why the venue's market data cannot be trusted now, or null (also when no collector records it). */
  private feedProblem(venue: string): string | null {
    for (const c of this.sup.list()) {
      if (c.kind !== 'collector') continue;
      const parsed = parseCollectorConfigs(c.definition.config);
      if (!parsed.ok || !parsed.configs.some((x) => x.venue === venue)) continue;
      if (c.state === 'running' && c.health === 'healthy') continue;
      if (c.state === 'running') {
        return `collector ${c.name} (${venue}) is ${c.health ?? 'not healthy'}${c.healthReason ? `: ${c.healthReason}` : ''}`;
      }
      return `collector ${c.name} (${venue}) is ${c.state}`;
    }
    return null;
  }

  // ---- helpers ----

  /** The trader service and its parsed configuration; a clear error for anything else. */
  private trader(name: string): { info: ServiceInfo; config: TraderConfig } {
    const info = this.sup.get(name);
    if (info.kind !== 'trader') {
      throw new ApiError('invalid_input', `name: ${name} is a ${info.kind} service, not a trader`, 'name');
    }
    if (!isTraderProgram(info)) {
      throw new ApiError(
        'invalid_input',
        `name: ${name} runs its own program, not the built-in trader: Vigil has no positions or orders of it`,
        'name',
      );
    }
    const parsed = traderConfigSchema.safeParse(info.definition.config ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = ['config', ...issue.path.map(String)].join('.');
      throw new ApiError('conflict', `${name}'s ${path} is not valid: ${issue.message}; fix it in Services`);
    }
    return { info, config: parsed.data };
  }

  /** Refuses what only a running trader can do. */
  private running(name: string, what: string): void {
    const { info } = this.trader(name);
    if (!LIVE.has(info.state)) {
      throw new ApiError('conflict', `${name} is ${info.state}: only a running trader can ${what}`);
    }
  }

  private stored(name: string, config: TraderConfig): TraderSnapshot {
    const now = this.now();
    return this.history.stoppedSnapshot(name, config, now) ?? configSnapshot(name, config, now);
  }

  /** A request to the program; its refusal becomes the API's error, with the field it names. */
  private async ask(
    name: string,
    method: string,
    params: unknown,
    timeoutMs = CONTROL_TIMEOUT_MS,
  ): Promise<TraderSnapshot> {
    let result: unknown;
    try {
      result = await this.sup.request(name, method, params, timeoutMs);
    } catch (error) {
      if (error instanceof ChildRequestError) {
        if (error.field) {
          const named = error.message.startsWith(`${error.field}:`);
          const message = named ? error.message : `${error.field}: ${error.message}`;
          throw new ApiError('invalid_input', message, error.field);
        }
        throw new ApiError('conflict', `${name} refused ${method}: ${error.message}`);
      }
      throw error;
    }
    if (!isSnapshot(result)) {
      throw new ApiError('internal', `${name} answered ${method} with something that is not a snapshot`);
    }
    return result;
  }

  private isTrader(service: string): boolean {
    try {
      return isTraderProgram(this.sup.get(service));
    } catch {
      return false;
    }
  }
}

export function isTraderProgram(s: ServiceInfo): boolean {
  return s.kind === 'trader' && s.program.type === 'builtin' && s.program.name === TRADER_PROGRAM;
}

/** Enough of a snapshot's shape to pass it on; the program is Vigil's own. */
function isSnapshot(v: unknown): v is TraderSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<TraderSnapshot>;
  return (
    typeof s.service === 'string' &&
    typeof s.at === 'number' &&
    Array.isArray(s.positions) &&
    Array.isArray(s.blocks) &&
    typeof s.account === 'object' &&
    s.account !== null
  );
}
