/**
 * Read-only access to a trader's database, `<dataDir>/trader/<service>.db` (the trader program is its
 * only writer; the layout is in src/services/trader/trader-db.ts): pages of orders and fills, the
 * equity curve downsampled, and the state of a stopped trader. Each call opens the file read-only and
 * closes it again: WAL lets it read while the trader writes, and nothing here holds the file open.
 *
 * No file (the trader never ran) is empty results, not an error; a file that is not a trader database
 * (garbage, another program's, a newer schema) is an ApiError naming the file and what is wrong.
 *
 * A stopped trader's snapshot is its last saved snapshot (strategy, feeds, counters) with the money,
 * positions, working orders and durable blocks read from the account, positions and orders tables,
 * which every fill updates in one transaction; a trader that never ran gets a snapshot from its
 * configuration. The strategy and limits shown are the configuration's: what its next start runs.
 */
import { existsSync, statSync } from 'node:fs';
import type { Database as Db } from 'better-sqlite3';
import { ApiError } from '../../shared/errors';
import {
  openingBlocks,
  type OpeningBlock,
  type TraderConfig,
  type TraderEquityPoint,
  type TraderFill,
  type TraderOrder,
  type TraderPage,
  type TraderPosition,
  type TraderSnapshot,
} from '../../shared/trader-api';
import { electronNativeBinding } from '../../services/sqlite/native-binding';
import { isStrategyId, strategies } from '../../services/strategies';
import { openTraderDb, traderDbPath } from '../../services/trader/trader-db';
import {
  toEquity,
  toFill,
  toOrder,
  type AccountRow,
  type EquityRow,
  type FillRow,
  type OrderRow,
  type PositionRow,
} from '../../services/trader/trader-rows';

const DAY_MS = 86_400_000;

export interface OrdersQuery {
  name: string;
  status: 'working' | 'done' | 'all';
  before?: number | undefined;
  limit: number;
}

export interface FillsQuery {
  name: string;
  before?: number | undefined;
  limit: number;
}

export interface EquityQuery {
  name: string;
  from?: number | undefined;
  to?: number | undefined;
  maxPoints: number;
}

const STATUS_WHERE: Record<OrdersQuery['status'], string> = {
  working: `status IN ('new', 'working')`,
  done: `status IN ('filled', 'canceled', 'rejected')`,
  all: '1',
};

export interface TraderHistoryOptions {
  /** better-sqlite3's addon for this runtime (default: the Electron build inside Electron). */
  nativeBinding?: string;
}

export class TraderHistory {
  private readonly nativeBinding: string | undefined;

  constructor(
    private readonly dataDir: string,
    opts: TraderHistoryOptions = {},
  ) {
    this.nativeBinding = opts.nativeBinding ?? electronNativeBinding();
  }

  file(service: string): string {
    return traderDbPath(this.dataDir, service);
  }

  /** Orders newest first; `before` pages back by `seq`. */
  orders(q: OrdersQuery): TraderPage<TraderOrder> {
    return (
      this.read(q.name, (db) => {
        const rows = db
          .prepare<unknown[], OrderRow>(
            `SELECT * FROM orders WHERE ${STATUS_WHERE[q.status]} AND seq < ? ORDER BY seq DESC LIMIT ?`,
          )
          .all(q.before ?? Number.MAX_SAFE_INTEGER, q.limit + 1);
        return page(
          rows.map((r) => ({ ...toOrder(r), seq: r.seq })),
          q.limit,
        );
      }) ?? { items: [], next: null }
    );
  }

  /** Fills newest first; `before` pages back by `seq`. */
  fills(q: FillsQuery): TraderPage<TraderFill> {
    return (
      this.read(q.name, (db) => {
        const rows = db
          .prepare<unknown[], FillRow>('SELECT * FROM fills WHERE seq < ? ORDER BY seq DESC LIMIT ?')
          .all(q.before ?? Number.MAX_SAFE_INTEGER, q.limit + 1);
        return page(
          rows.map((r) => ({ ...toFill(r), seq: r.seq })),
          q.limit,
        );
      }) ?? { items: [], next: null }
    );
  }

  /**
   * The equity curve in [from, to), oldest first: at most maxPoints points, the last of each of
   * maxPoints equal intervals (every point when there are no more than that). One indexed look-up per
   * interval, so a month of 5 s points costs the same as an hour's.
   */
  equity(q: EquityQuery): TraderEquityPoint[] {
    return (
      this.read(q.name, (db) => {
        const bounds = db
          .prepare<unknown[], { first: number | null; last: number | null }>(
            'SELECT MIN(t) AS first, MAX(t) AS last FROM equity WHERE t >= ? AND t < ?',
          )
          .get(q.from ?? 0, q.to ?? Number.MAX_SAFE_INTEGER);
        if (!bounds || bounds.first === null || bounds.last === null) return [];
        const from = bounds.first;
        const to = bounds.last + 1;
        const all = db.prepare<unknown[], EquityRow>(
          'SELECT * FROM equity WHERE t >= ? AND t < ? ORDER BY t LIMIT ?',
        );
        const few = all.all(from, to, q.maxPoints + 1);
        if (few.length <= q.maxPoints) return few.map(toEquity);
        const lastIn = db.prepare<unknown[], EquityRow>(
          'SELECT * FROM equity WHERE t >= ? AND t < ? ORDER BY t DESC LIMIT 1',
        );
        const step = (to - from) / q.maxPoints;
        const out: TraderEquityPoint[] = [];
        for (let i = 0; i < q.maxPoints; i++) {
          const start = Math.floor(from + i * step);
          const end = i === q.maxPoints - 1 ? to : Math.floor(from + (i + 1) * step);
          if (end <= start) continue;
          const row = lastIn.get(start, end);
          if (row) out.push(toEquity(row));
        }
        return out;
      }) ?? []
    );
  }

  /**
   * A stopped trader as its database has it (running: false), or null when it has no account yet
   * (never started, or stopped before its first write).
   */
  stoppedSnapshot(service: string, config: TraderConfig, now: number = Date.now()): TraderSnapshot | null {
    return (
      this.read(service, (db) => {
        const account = db.prepare<[], AccountRow>('SELECT * FROM account WHERE id = 1').get();
        if (!account) return null;
        const positions = db.prepare<[], PositionRow>('SELECT * FROM positions ORDER BY symbol').all();
        const working = db
          .prepare<[], OrderRow>(`SELECT * FROM orders WHERE status IN ('new', 'working') ORDER BY seq`)
          .all();
        const raw = db.prepare<[], string>('SELECT json FROM last_snapshot WHERE id = 1').pluck().get();
        const last = raw === undefined ? null : parseSnapshot(raw);
        return stoppedFrom(service, config, now, { account, positions, working, last });
      }) ?? null
    );
  }

  /**
   * Runs `read` on the trader's file opened read-only (trader-db.ts checks it is a trader database of
   * a schema this Vigil reads); undefined when there is no file yet, or an empty one (created, nothing
   * written).
   */
  private read<T>(service: string, read: (db: Db) => T): T | undefined {
    const file = this.file(service);
    if (!existsSync(file) || statSync(file).size === 0) return undefined;
    let db: Db | null = null;
    try {
      db = openTraderDb(file, {
        readonly: true,
        ...(this.nativeBinding ? { nativeBinding: this.nativeBinding } : {}),
      });
      return read(db);
    } catch (error) {
      throw new ApiError('unavailable', `${service}'s trader database: ${(error as Error).message}`, 'name');
    } finally {
      db?.close();
    }
  }
}

/** A trader that never ran: its configuration, all money in cash, nothing open. */
export function configSnapshot(
  service: string,
  config: TraderConfig,
  now: number = Date.now(),
): TraderSnapshot {
  return {
    service,
    mode: config.mode,
    at: now,
    running: false,
    reloading: false,
    blocks: [],
    venue: config.venue,
    resolution: config.resolution,
    strategy: strategyOf(config),
    limits: config.limits,
    account: {
      initialEquity: config.equity,
      cash: config.equity,
      equity: config.equity,
      realizedPnl: 0,
      unrealizedPnl: 0,
      fees: 0,
      dayStartEquity: config.equity,
      dayPnl: 0,
    },
    positions: [],
    workingOrders: [],
    feeds: config.symbols.map((symbol) => ({ symbol, bid: null, ask: null, lastAt: null, stale: true })),
    feedProblem: null,
    lastDecision: null,
    counters: { ticks: 0, decisions: 0, orders: 0, fills: 0, rejected: 0 },
  };
}

function stoppedFrom(
  service: string,
  config: TraderConfig,
  now: number,
  s: { account: AccountRow; positions: PositionRow[]; working: OrderRow[]; last: TraderSnapshot | null },
): TraderSnapshot {
  const { account: a, last } = s;
  // The last marks the trader saw: a stopped trader has no live quotes.
  const markOf = (symbol: string): number | null => {
    const p = last?.positions.find((x) => x.symbol === symbol);
    if (p && p.mark !== null) return p.mark;
    const f = last?.feeds.find((x) => x.symbol === symbol);
    return f && f.bid !== null && f.ask !== null ? (f.bid + f.ask) / 2 : null;
  };
  const positions: TraderPosition[] = s.positions
    .filter((p) => p.qty !== 0 || p.realized_pnl !== 0 || p.fees !== 0)
    .map((p) => {
      const mark = markOf(p.symbol);
      return {
        symbol: p.symbol,
        qty: p.qty,
        avgPrice: p.avg_price,
        mark,
        unrealizedPnl: mark !== null && p.avg_price !== null ? (mark - p.avg_price) * p.qty : 0,
        realizedPnl: p.realized_pnl,
        fees: p.fees,
      };
    });
  const unrealizedPnl = positions.reduce((n, p) => n + p.unrealizedPnl, 0);
  // Realized P&L is before fees (TraderFill.realizedPnl), fees are the account's total.
  const equity = a.initial_equity + a.realized_pnl - a.fees + unrealizedPnl;
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const dayStartEquity = a.day === today ? a.day_start_equity : equity;
  const blocks = new Set<OpeningBlock>();
  if (a.opening_stopped_by === 'person' || a.opening_stopped_by === 'kill-switch') {
    blocks.add(a.opening_stopped_by);
  }
  if (a.daily_loss_halt_day !== null && a.daily_loss_halt_day === today) blocks.add('daily-loss');
  const lastFeeds = new Map((last?.feeds ?? []).map((f) => [f.symbol, f]));
  return {
    service,
    mode: config.mode,
    at: last?.at ?? a.updated_at,
    running: false,
    reloading: false,
    blocks: openingBlocks.filter((b) => blocks.has(b)),
    venue: config.venue,
    resolution: config.resolution,
    strategy: strategyOf(config),
    limits: config.limits,
    account: {
      initialEquity: a.initial_equity,
      cash: a.cash,
      equity,
      realizedPnl: a.realized_pnl,
      unrealizedPnl,
      fees: a.fees,
      dayStartEquity,
      dayPnl: equity - dayStartEquity,
    },
    positions,
    workingOrders: s.working.map(toOrder),
    feeds: config.symbols.map((symbol) => {
      const f = lastFeeds.get(symbol);
      return { symbol, bid: f?.bid ?? null, ask: f?.ask ?? null, lastAt: f?.lastAt ?? null, stale: true };
    }),
    feedProblem: null,
    lastDecision: last?.lastDecision ?? null,
    counters: last?.counters ?? { ticks: 0, decisions: 0, orders: 0, fills: 0, rejected: 0 },
  };
}

/** The configured strategy, with its version and warmup as the registry knows them. */
function strategyOf(config: TraderConfig): TraderSnapshot['strategy'] {
  const s = config.strategy;
  let version = s.version ?? 1;
  let warmupLeft = 0;
  if (isStrategyId(s.id)) {
    const def = strategies[s.id];
    version = s.version ?? def.version;
    const params = def.schema.safeParse(s.params);
    if (params.success) warmupLeft = def.warmup(params.data as never);
  }
  return { id: s.id, version, params: { ...s.params }, source: s.source ?? null, warmupLeft };
}

function parseSnapshot(raw: string): TraderSnapshot | null {
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Partial<TraderSnapshot>;
    // Only what the reader takes from it must have the right shape.
    if (!Array.isArray(o.positions) || !Array.isArray(o.feeds)) return null;
    return v as TraderSnapshot;
  } catch {
    return null;
  }
}

function page<T>(rows: (T & { seq: number })[], limit: number): TraderPage<T> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? items.at(-1)!.seq : null };
}
