/**
 * trader: the paper-trading program, a supervised child (built-in program `trader`, kind trader).
 * VIGIL_CONFIG is its TraderConfig (src/shared/trader-api.ts); a bad one exits 78 with the field named.
 *
 * At start it opens `<dataDir>/trader/<service>.db` (its only writer), reads warmup candles from the
 * venue's market database (read-only; none is fine, it then warms up live), starts the engine
 * (engine.ts: it reloads the account and positions and resubmits orders recorded without an outcome),
 * and subscribes to exactly its symbols' `md.<venue>.<symbol>.top` and `.trade` subjects, handing each
 * message to the engine with the time it was received (performance.now(), for the latency metrics).
 *
 * It answers the core's TRADER_METHODS, sends TRADER_EVENTS (snapshots as the engine coalesces them,
 * alerts), reports health (degraded while its market data is stale), writes the last snapshot to the
 * database every 5 s and at stop, and applies a new configuration with `reload` (the engine buffers
 * ticks meanwhile and replays them; a bad configuration fails the reload and the old one stays).
 * Stopping leaves positions as they are: flattening first is the core's job (trader.flatten).
 */
import { performance } from 'node:perf_hooks';
import type { BusMessage, BusSubscription } from '../bus/types';
import { EXIT_CONFIG_ERROR } from '../../shared/child-protocol';
import { marketSubject, type TopOfBookRecord, type TradeRecord } from '../../shared/market';
import {
  riskLimitsSchema,
  TRADER_EVENTS,
  TRADER_METHODS,
  type TraderAlert,
  type TraderConfig,
  type TraderSnapshot,
} from '../../shared/trader-api';
import { startChild } from '../sdk';
import type { StrategyDefinition } from '../strategies';
import { createPaperExecution, TraderEngine, type LatencyKind } from './engine';
import { LatencyWindow } from './latency-window';
import { describeConfigError, parseTraderConfig } from './trader-config';
import { TraderDb, TraderDbError, traderDbPath } from './trader-db';
import type { Clock } from './types';
import { loadWarmup } from './warmup';

const SNAPSHOT_SAVE_MS = 5_000;

/** An error the reply carries with a code and the field of the request it concerns. */
class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const clock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

let engine: TraderEngine | null = null;
let db: TraderDb | null = null;
let subscriptions = new Map<string, BusSubscription>();
let saveTimer: NodeJS.Timeout | null = null;
/** tick: every tick handled; decision: tick → order decided; order: tick → order stored (synced) and sent. */
const latency: Record<LatencyKind, LatencyWindow> = {
  tick: new LatencyWindow(),
  decision: new LatencyWindow(),
  order: new LatencyWindow(),
};
let rate = { at: Date.now(), ticks: 0, perSec: 0 };

const child = startChild({
  metrics,
  onRequest: (method, params) => answer(method, params),
  onReload: reload,
  onStop: stop,
});

const log = (line: string): void => console.log(`trader: ${line}`);

function metrics(): Record<string, number> {
  if (!engine) return {};
  const s = engine.snapshot();
  const now = Date.now();
  if (now - rate.at >= 500) {
    rate = {
      at: now,
      ticks: s.counters.ticks,
      perSec: ((s.counters.ticks - rate.ticks) * 1000) / (now - rate.at),
    };
  }
  const values: Record<string, number> = {
    equity: s.account.equity,
    realized_pnl: s.account.realizedPnl,
    unrealized_pnl: s.account.unrealizedPnl,
    day_pnl: s.account.dayPnl,
    positions_open: s.positions.filter((p) => p.qty !== 0).length,
    orders_working: s.workingOrders.length,
    blocked: s.blocks.length > 0 ? 1 : 0,
    ticks: s.counters.ticks,
    ticks_per_sec: Math.round(rate.perSec * 10) / 10,
    decisions: s.counters.decisions,
  };
  // Absent rather than 0 while nothing was measured: a 0 ms latency would be a false reading.
  for (const kind of ['tick', 'decision', 'order'] as const) {
    const [p50, p99] = latency[kind].percentiles([50, 99]);
    if (p50 != null) values[`${kind}_p50_ms`] = round3(p50);
    if (p99 != null) values[`${kind}_p99_ms`] = round3(p99);
  }
  return values;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function answer(method: string, params: unknown): Promise<TraderSnapshot> {
  const e = engine;
  if (!e) throw new RequestError('the trader is still starting', 'not-ready');
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
  switch (method) {
    case TRADER_METHODS.snapshot:
      return e.snapshot();
    case TRADER_METHODS.setLimits: {
      const r = riskLimitsSchema.safeParse(p.limits);
      if (!r.success) {
        const issue = r.error.issues[0]!;
        const field = ['limits', ...issue.path.map(String)].join('.');
        throw new RequestError(`${field}: ${issue.message}`, 'invalid_input', field);
      }
      return e.setLimits(r.data);
    }
    case TRADER_METHODS.opening:
      if (typeof p.allowed !== 'boolean') {
        throw new RequestError('allowed: must be true or false', 'invalid_input', 'allowed');
      }
      return e.setOpening(p.allowed);
    case TRADER_METHODS.flatten:
      return e.flatten();
    case TRADER_METHODS.kill:
      return e.kill();
    case TRADER_METHODS.feed:
      if (p.problem !== null && typeof p.problem !== 'string') {
        throw new RequestError('problem: must be a string or null', 'invalid_input', 'problem');
      }
      return e.setFeedProblem(p.problem);
    default:
      throw new RequestError(`the trader takes no request "${method}"`, 'unknown-method');
  }
}

/** The subjects a configuration needs: exactly its symbols' top of book and trades. */
function subjectsOf(c: TraderConfig): string[] {
  return c.symbols.flatMap((s) => [marketSubject(c.venue, s, 'top'), marketSubject(c.venue, s, 'trade')]);
}

async function subscribe(c: TraderConfig): Promise<void> {
  const bus = await child.bus();
  const wanted = new Set(subjectsOf(c));
  for (const subject of wanted) {
    if (subscriptions.has(subject)) continue;
    const handler = subject.endsWith('.top') ? onTop : onTrade;
    subscriptions.set(
      subject,
      bus.subscribe(subject, handler, {
        // Dropped or missed messages: said in the log; staleness (no top for staleAfterMs) pauses orders.
        onGap: (gap) =>
          log(
            `${subject}: ${gap.reason === 'dropped' ? `${gap.dropped ?? '?'} messages dropped` : 'bus disconnected'} ` +
              `(${new Date(gap.from).toISOString()} → ${new Date(gap.to).toISOString()})`,
          ),
      }),
    );
  }
  const dropped = [...subscriptions.keys()].filter((s) => !wanted.has(s));
  for (const subject of dropped) {
    subscriptions.get(subject)!.unsubscribe();
    subscriptions.delete(subject);
  }
}

function onTop(m: BusMessage): void {
  const at = performance.now();
  const t = m.data as TopOfBookRecord;
  if (t?.type !== 'top') return;
  engine?.onTop(t, at);
}

function onTrade(m: BusMessage): void {
  const at = performance.now();
  const t = m.data as TradeRecord;
  if (t?.type !== 'trade') return;
  engine?.onTrade(t, at);
}

let lastBlockedOnStale = false;
function onSnapshot(s: TraderSnapshot): void {
  child.event(TRADER_EVENTS.snapshot, s);
  // Health: degraded while the market data it trades on is stale (the core shows and alerts it).
  const stale = s.blocks.includes('stale');
  if (stale !== lastBlockedOnStale) {
    lastBlockedOnStale = stale;
    if (stale) {
      const symbols = s.feeds.filter((f) => f.stale).map((f) => f.symbol);
      child.status(
        'degraded',
        s.feedProblem ?? `market data stale: ${symbols.join(', ') || 'feed'}; not opening positions`,
      );
    } else child.status('healthy', 'market data fresh again');
  }
}

function onAlert(a: TraderAlert): void {
  log(`${a.cleared ? 'cleared' : a.severity} ${a.kind}: ${a.message}`);
  child.event(TRADER_EVENTS.alert, a);
}

function saveSnapshot(running: boolean): void {
  if (!engine || !db) return;
  try {
    db.saveSnapshot({ ...engine.snapshot(), running });
  } catch (error) {
    console.error(`trader: ${(error as Error).message}`);
  }
}

async function start(c: TraderConfig, warmupCandles: number): Promise<void> {
  if (!child.dataDir) throw new Error('the trader needs a data directory (VIGIL_DATA_DIR) for its trader.db');
  const file = traderDbPath(child.dataDir, child.service);
  db = TraderDb.open(file);
  const warm = loadWarmup({
    dataDir: child.dataDir,
    venue: c.venue,
    symbols: c.symbols,
    resolution: c.resolution,
    count: warmupCandles,
    now: Date.now(),
  });
  for (const note of warm.notes) log(note);
  const e = new TraderEngine({
    service: child.service,
    config: c,
    clock,
    store: db,
    execution: createPaperExecution({ clock, costs: c.costs }),
    onSnapshot,
    onAlert,
    onLatency: (kind, ms) => latency[kind].add(ms),
  });
  e.start(warm.history);
  engine = e;
  await subscribe(c);
  saveTimer = setInterval(() => saveSnapshot(true), SNAPSHOT_SAVE_MS);
  const s = e.snapshot();
  log(
    `${c.mode} on ${c.venue} ${c.symbols.join(', ')} (${c.resolution}), ${c.strategy.id} ` +
      `${JSON.stringify(c.strategy.params)}; ${file}; equity ${s.account.equity}, ` +
      `${s.positions.filter((p) => p.qty !== 0).length} open positions, ${s.workingOrders.length} working orders`,
  );
  child.ready({ mode: c.mode, venue: c.venue, symbols: c.symbols, db: file });
}

async function reload(raw: unknown): Promise<void> {
  const r = parseTraderConfig(raw);
  if (!r.ok)
    throw new Error(`the new configuration is invalid (${describeConfigError(r)}); keeping the current one`);
  const e = engine;
  if (!e) throw new Error('the trader is still starting');
  const next = r.config;
  warnVersion(next, r.strategy);
  // The engine refuses what a reload cannot do (another venue or mode, dropping a symbol it holds),
  // buffers ticks meanwhile and replays them; a symbol added is subscribed once it knows it.
  await e.reload(next);
  await subscribe(next);
  log(`reloaded: ${next.strategy.id} ${JSON.stringify(next.strategy.params)} on ${next.symbols.join(', ')}`);
}

async function stop(reason: string): Promise<void> {
  log(`stopping (${reason})`);
  if (saveTimer) clearInterval(saveTimer);
  for (const sub of subscriptions.values()) sub.unsubscribe();
  subscriptions = new Map();
  if (engine) {
    engine.close();
    saveSnapshot(false);
  }
  db?.close();
  engine = null;
  db = null;
}

function warnVersion(c: TraderConfig, def: StrategyDefinition): void {
  if (c.strategy.version !== undefined && c.strategy.version !== def.version) {
    log(
      `warning: the parameters were chosen for ${c.strategy.id} version ${c.strategy.version}; ` +
        `this is version ${def.version}, which may decide differently`,
    );
  }
}

const parsed = parseTraderConfig(child.config);
if (!parsed.ok) {
  console.error(`trader: configuration ${describeConfigError(parsed)}`);
  process.exit(EXIT_CONFIG_ERROR);
}
warnVersion(parsed.config, parsed.strategy);
start(parsed.config, parsed.strategy.warmup(parsed.params)).catch((error: unknown) => {
  console.error(`trader: could not start: ${error instanceof Error ? error.message : String(error)}`);
  // A bad trader.db needs a person (its message says what to do): restarting would not help.
  process.exit(error instanceof TraderDbError ? EXIT_CONFIG_ERROR : 1);
});
