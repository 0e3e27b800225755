/**
 * The control API contract: every command and every event, declared once. Electron IPC and the
 * headless WebSocket both serve exactly this, through one router (src/main/api/router.ts).
 */
import { z } from 'zod';
import type { BusSample } from './bus';
import type { ConfigChange } from './config';
import type { AlertRecord, EventRecord, Page, SeriesKey, SeriesResult } from './history';
import { alertStates } from './history';
import {
  marketGapsInput,
  marketSeriesInput,
  marketTopInput,
  type MarketGapsResult,
  type MarketSeriesResult,
  type MarketTopEvent,
  type MarketTopResult,
} from './market-api';
import {
  optimizerApplyInput,
  optimizerRunInput,
  optimizerRunsInput,
  optimizerSubmitInput,
  optimizerTrialInput,
  optimizerTrialsInput,
  type OptimizerProgressEvent,
  type OptimizerRun,
  type OptimizerRunPage,
  type OptimizerTrialDetail,
  type OptimizerTrialPage,
  type StrategyInfo,
} from './optimizer-api';
import { serviceDefinitionInputSchema } from './service-definition';
import { alertKinds, serviceStates } from './services';
import { settingsPatchSchema, type Settings } from './settings';
import type {
  BuiltinProgram,
  LogLine,
  MetricsSample,
  ServiceAlertEvent,
  ServiceInfo,
  ServiceTransitionEvent,
} from './services';
import { serviceNameSchema } from './services';
import {
  traderConfirmSchema,
  traderEquityInput,
  traderFillsInput,
  traderKillInput,
  traderLimitsInput,
  traderOpeningInput,
  traderOrdersInput,
  traderStateInput,
  traderStopInput,
  type TraderEquityPoint,
  type TraderFill,
  type TraderOrder,
  type TraderPage,
  type TraderSnapshot,
  type TraderUpdateEvent,
} from './trader-api';

interface CommandSpec<I extends z.ZodType, R> {
  description: string;
  input: I;
  /** Type-level only: the result type of the command. */
  result?: R;
}

function command<R>() {
  return <I extends z.ZodType>(description: string, input: I): CommandSpec<I, R> => ({ description, input });
}

interface EventSpec<P> {
  description: string;
  /** Type-level only. */
  payload?: P;
}

function event<P>(description: string): EventSpec<P> {
  return { description };
}

const noInput = z.object({}).strict();
const byName = z.object({ name: serviceNameSchema }).strict();
/** A trader starts only with a person's confirmation of its mode; other services ignore `confirm`. */
const startInput = z.object({ name: serviceNameSchema, confirm: traderConfirmSchema.optional() }).strict();
const logsInput = z
  .object({
    name: serviceNameSchema,
    lines: z.number().int().min(1).max(2000).default(200),
    stream: z.enum(['out', 'err', 'vigil']).optional(),
    contains: z.string().max(200).optional(),
    /** Older lines: those numbered below this `seq` (from the rotated files too). */
    before: z.number().int().positive().optional(),
  })
  .strict();

const epochMs = z.number().int('must be a whole number of milliseconds').min(0);
const pageLimit = z.number().int().min(1).max(1000).default(100);

export interface AppInfo {
  name: string;
  version: string;
  mode: 'desktop' | 'headless';
  platform: string;
  arch: string;
  runtime: { node: string; electron: string | null };
  pid: number;
  startedAt: number; // epoch ms
  dataDir: string;
  /** Started with --demo: the market data comes from the simulator, and every view must say so. */
  demo: boolean;
}

export const commands = {
  'app.info': command<AppInfo>()('Version, mode and runtime of this Vigil instance', noInput),
  'services.list': command<ServiceInfo[]>()('Every configured service with its live state', noInput),
  'services.get': command<ServiceInfo>()('One service with its live state', byName),
  'services.start': command<ServiceInfo>()(
    'Start a service (no-op if it is already up); a trader needs confirm: { mode } naming its mode (paper or live)',
    startInput,
  ),
  'services.stop': command<ServiceInfo>()(
    'Stop a service gracefully, killing it after its stop timeout',
    byName,
  ),
  'services.restart': command<ServiceInfo>()(
    'Stop then start a service; a trader needs confirm: { mode } naming its mode (paper or live)',
    startInput,
  ),
  'services.pause': command<ServiceInfo>()('Pause a running service (the pause message, or SIGSTOP)', byName),
  'services.resume': command<ServiceInfo>()('Resume a paused service', byName),
  'services.reload': command<ServiceInfo>()(
    'Send a running protocol service new configuration without restarting it',
    z.object({ name: serviceNameSchema, config: z.unknown() }).strict(),
  ),
  'services.acknowledge': command<ServiceInfo>()(
    'Acknowledge a fatal service so it can be started again',
    byName,
  ),
  'services.add': command<ServiceInfo>()(
    'Add a service: name, kind and program, plus whatever differs from the preset of its kind',
    z.object({ definition: serviceDefinitionInputSchema }).strict(),
  ),
  'services.update': command<ServiceInfo>()(
    'Replace a service’s definition; a running service applies it at its next restart',
    z.object({ name: serviceNameSchema, definition: serviceDefinitionInputSchema }).strict(),
  ),
  'services.remove': command<{ removed: string }>()('Remove a stopped service', byName),
  'services.logs': command<LogLine[]>()(
    'The most recent lines of a service’s output, oldest first; with before, the lines before that seq (paging back through the rotated log files)',
    logsInput,
  ),
  'programs.list': command<BuiltinProgram[]>()(
    'The built-in programs a service can run, with the configuration each takes',
    noInput,
  ),
  'history.series': command<SeriesResult>()(
    'One metric of one service over a time range, at most maxPoints points (the resolution follows the range)',
    z
      .object({
        service: serviceNameSchema,
        metric: z.string().min(1).max(128),
        from: epochMs,
        to: epochMs,
        maxPoints: z.number().int().min(10).max(2000).default(300),
      })
      .strict()
      .refine((q) => q.to > q.from, { path: ['to'], message: 'must be after from' }),
  ),
  'history.metrics': command<SeriesKey[]>()(
    'Which metric series are recorded, for one service or all',
    z.object({ service: serviceNameSchema.optional() }).strict(),
  ),
  'events.list': command<Page<EventRecord>>()(
    'State transitions, newest first, filtered and paged',
    z
      .object({
        service: serviceNameSchema.optional(),
        from: epochMs.optional(),
        to: epochMs.optional(),
        states: z.array(z.enum(serviceStates)).max(serviceStates.length).optional(),
        limit: pageLimit,
        before: z.number().int().positive().optional(),
      })
      .strict(),
  ),
  'alerts.list': command<Page<AlertRecord>>()(
    'Alerts, newest first, filtered and paged; open ones are neither acknowledged nor cleared',
    z
      .object({
        service: serviceNameSchema.optional(),
        kind: z.enum(alertKinds).optional(),
        state: z.enum(alertStates).optional(),
        from: epochMs.optional(),
        to: epochMs.optional(),
        limit: pageLimit,
        before: z.number().int().positive().optional(),
      })
      .strict(),
  ),
  'alerts.acknowledge': command<AlertRecord>()(
    'A person has seen this alert',
    z.object({ id: z.number().int().positive() }).strict(),
  ),
  'config.export': command<{ format: 'json' | 'yaml'; text: string }>()(
    'The whole configuration (services and settings) as one document',
    z.object({ format: z.enum(['json', 'yaml']).default('yaml') }).strict(),
  ),
  'config.import': command<{ applied: boolean; changes: ConfigChange[] }>()(
    'Replace the whole configuration from a document; with dryRun (the default) only list what would change',
    z
      .object({
        text: z.string().min(1, 'must not be empty').max(900_000, 'must be under 900 kB'),
        format: z.enum(['json', 'yaml']).optional(),
        dryRun: z.boolean().default(true),
      })
      .strict(),
  ),
  'market.gaps': command<MarketGapsResult>()(
    'The gap ledger of market/<venue>.db (every venue without one), newest first, filtered and paged',
    marketGapsInput,
  ),
  'market.series': command<MarketSeriesResult>()(
    'Recorded candles, funding, open interest, long/short, DVOL and liquidations of one instrument, downsampled to maxPoints',
    marketSeriesInput,
  ),
  'market.top': command<MarketTopResult>()(
    'The latest best bid and ask (and spread, last trade) per venue and symbol; subscribe to the market.top event for live updates',
    marketTopInput,
  ),
  'optimizer.strategies': command<StrategyInfo[]>()(
    'The strategies the optimizer can search, with their parameters',
    noInput,
  ),
  'optimizer.submit': command<OptimizerRun>()(
    'Start a parameter search (queued when the optimizer service is not running, or busy with another run)',
    optimizerSubmitInput,
  ),
  'optimizer.cancel': command<OptimizerRun>()(
    'Cancel a queued or running search; the trials already finished stay',
    optimizerRunInput,
  ),
  'optimizer.runs': command<OptimizerRunPage>()(
    'Parameter searches, newest first, paged',
    optimizerRunsInput,
  ),
  'optimizer.run': command<OptimizerRun>()('One parameter search with its progress', optimizerRunInput),
  'optimizer.trials': command<OptimizerTrialPage>()(
    'The trials of a search with in-sample and out-of-sample metrics, sorted and paged',
    optimizerTrialsInput,
  ),
  'optimizer.trial': command<OptimizerTrialDetail>()(
    'One trial with its in-sample and out-of-sample equity curves',
    optimizerTrialInput,
  ),
  'optimizer.apply': command<ServiceInfo>()(
    'Write a trial’s parameters into a trader service’s configuration (config.strategy); the trader applies it on reload',
    optimizerApplyInput,
  ),
  'trader.state': command<TraderSnapshot>()(
    'A trader’s positions, orders, P&L and blocks: live while it runs, else from its database (running: false), or from its configuration if it never ran',
    traderStateInput,
  ),
  'trader.orders': command<TraderPage<TraderOrder>>()(
    'A trader’s orders from its database, newest first, paged',
    traderOrdersInput,
  ),
  'trader.fills': command<TraderPage<TraderFill>>()(
    'A trader’s fills from its database, newest first, paged',
    traderFillsInput,
  ),
  'trader.equity': command<TraderEquityPoint[]>()(
    'A trader’s equity curve from its database, oldest first, at most maxPoints points (the last of each interval)',
    traderEquityInput,
  ),
  'trader.limits': command<TraderSnapshot>()(
    'Change a trader’s risk limits: kept in its configuration, and applied at once while it runs',
    traderLimitsInput,
  ),
  'trader.opening': command<TraderSnapshot>()(
    'Stop (allowed: false) or resume opening positions on a running trader; closing is always allowed',
    traderOpeningInput,
  ),
  'trader.stop': command<TraderSnapshot>()(
    'Stop a trader; with flatten, it first cancels its orders and closes every position (and keeps running if that fails)',
    traderStopInput,
  ),
  'trader.kill': command<TraderSnapshot>()(
    'The kill switch: cancel every working order, flatten every position, stop opening (until resumed)',
    traderKillInput,
  ),
  'settings.get': command<Settings>()('All settings', noInput),
  'settings.update': command<Settings>()(
    'Change some settings; the rest stay as they are',
    z.object({ patch: settingsPatchSchema }).strict(),
  ),
} as const;

export const events = {
  'service.state': event<ServiceInfo>(
    'A service changed state, or was added or had its definition changed; the payload is its full, current info',
  ),
  'service.transition': event<ServiceTransitionEvent>(
    'One state transition, with its reason and exit, and its id in events.list',
  ),
  'service.alert': event<ServiceAlertEvent>(
    'Something a person should know (crash loop, fatal, memory, hang), with its id for alerts.acknowledge',
  ),
  'service.log': event<{ service: string; lines: LogLine[] }>(
    'New output lines, batched a few times a second',
  ),
  'service.removed': event<{ name: string }>('A service was removed'),
  metrics: event<MetricsSample>('Every service’s CPU, memory and heartbeat age, once a second'),
  'alert.changed': event<AlertRecord>('An alert was acknowledged or cleared (one event per alert)'),
  'bus.sample': event<BusSample>(
    'Twice a second per publishing service: message counts and the last message per subject',
  ),
  'config.changed': event<{ services: number; settings: Settings }>(
    'The configuration was replaced or settings changed',
  ),
  'optimizer.progress': event<OptimizerProgressEvent>(
    'A search moved on: trials done of total, ETA and best so far (at most twice a second per run, and at every status change)',
  ),
  'trader.update': event<TraderUpdateEvent>(
    'A trader’s snapshot: at most 4 times a second while it runs and at every order, fill or block change, and once when it stops',
  ),
  'market.top': event<MarketTopEvent>(
    'Best bid/ask that changed, batched at most 4 times a second; market data crosses to Vigil only while some client subscribes',
  ),
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type CommandInput<C extends CommandName> = z.input<Commands[C]['input']>;
export type CommandParsedInput<C extends CommandName> = z.output<Commands[C]['input']>;
export type CommandResult<C extends CommandName> = NonNullable<Commands[C]['result']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = NonNullable<Events[E]['payload']>;

export const commandNames = Object.keys(commands) as CommandName[];
export const eventNames = Object.keys(events) as EventName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(commands, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

export const topicsSchema = z
  .array(z.string().refine(isEventName, { message: 'is not a known event' }))
  .min(1, 'name at least one event')
  .max(eventNames.length * 4);

/** Hard cap on one request, for both transports: nothing legitimate comes close. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
