/** How the command line shows things: the status table, durations, sizes, log lines and events. */
import type { AppInfo } from '../shared/api';
import { formatDuration } from '../shared/format';
import type { EventRecord } from '../shared/history';
import type { OverallStatus } from '../shared/service-status';
import type { LogLine, ServiceInfo } from '../shared/services';
import type { TraderSnapshot } from '../shared/trader-api';

export interface Style {
  color: boolean;
}

const codes = { red: 31, green: 32, yellow: 33, grey: 90, bold: 1 } as const;
type Colour = keyof typeof codes;

export function paint(style: Style, colour: Colour, text: string): string {
  return style.color ? `\u001b[${codes[colour]}m${text}\u001b[0m` : text;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const stateColour = (s: ServiceInfo): Colour =>
  s.state === 'running'
    ? s.health === 'healthy' || s.health === null
      ? 'green'
      : 'yellow'
    : s.state === 'fatal' || s.state === 'backoff'
      ? 'red'
      : s.state === 'stopped'
        ? 'grey'
        : 'yellow';

const overallColour: Record<OverallStatus['level'], Colour> = {
  healthy: 'green',
  empty: 'grey',
  degraded: 'yellow',
  failing: 'red',
};

/** A box table like `pm2 list`; cells are measured before colouring so the columns line up. */
export function table(headers: string[], rows: { text: string; colour?: Colour }[][], style: Style): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  const line = (l: string, m: string, r: string): string =>
    `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}`;
  const row = (cells: { text: string; colour?: Colour }[]): string =>
    `│${cells
      .map((c, i) => {
        const padded = ` ${c.text.padEnd(widths[i]!)} `;
        return c.colour ? paint(style, c.colour, padded) : padded;
      })
      .join('│')}│`;
  return [
    line('┌', '┬', '┐'),
    row(headers.map((text) => ({ text, colour: 'bold' as const }))),
    line('├', '┼', '┤'),
    ...rows.map(row),
    line('└', '┴', '┘'),
  ].join('\n');
}

export function statusView(
  app: AppInfo,
  overall: OverallStatus,
  services: readonly ServiceInfo[],
  style: Style,
  now = Date.now(),
): string {
  const head =
    `Vigil ${app.version} · ${app.mode} · ${app.demo ? 'demo market (simulated)' : 'live market'} · ` +
    `up ${formatDuration(now - app.startedAt)} · ${paint(style, overallColour[overall.level], overall.label)}`;
  const rows = services.map((s) => {
    const up = s.pid !== null && s.startedAt !== null;
    return [
      { text: s.name },
      { text: s.kind },
      { text: s.state, colour: stateColour(s) },
      { text: s.health ?? '-' },
      { text: s.pid === null ? '-' : String(s.pid) },
      { text: up ? formatDuration(now - s.startedAt!) : '-' },
      { text: String(s.restarts) },
      { text: s.cpuPercent === null || !up ? '-' : `${s.cpuPercent.toFixed(1)} %` },
      { text: s.rssBytes === null || !up ? '-' : formatBytes(s.rssBytes) },
    ];
  });
  const body =
    services.length === 0
      ? 'No services are configured.'
      : table(['name', 'kind', 'state', 'health', 'pid', 'uptime', '↺', 'cpu', 'memory'], rows, style);
  const problems = overall.problems.map((p) => `  ${paint(style, 'yellow', '!')} ${p.name}: ${p.what}`);
  return [head, body, ...problems].join('\n');
}

/** 2025-11-22T13:37:05.123Z err  text */
export function logLineView(line: LogLine, style: Style): string {
  const stream = line.stream.padEnd(5);
  const tag =
    line.stream === 'err'
      ? paint(style, 'red', stream)
      : line.stream === 'vigil'
        ? paint(style, 'grey', stream)
        : stream;
  return `${new Date(line.at).toISOString()} ${tag} ${line.text}`;
}

export function eventView(e: EventRecord, style: Style): string {
  const exit =
    e.exitCode !== null ? ` (exit ${e.exitCode})` : e.exitSignal !== null ? ` (${e.exitSignal})` : '';
  const to = e.to === 'fatal' || e.to === 'backoff' ? paint(style, 'red', e.to) : e.to;
  return `${new Date(e.at).toISOString()} ${e.service}: ${e.from} → ${to}${exit}: ${e.reason}`;
}

/** A service after start/stop/restart, in a line. */
export function serviceLine(s: ServiceInfo): string {
  return `${s.name}: ${s.state}${s.pid === null ? '' : ` (pid ${s.pid})`}${s.reason ? ` · ${s.reason}` : ''}`;
}

const money = (n: number): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const signed = (n: number): string => `${n > 0 ? '+' : n < 0 ? '-' : ''}${money(Math.abs(n))}`;
const price = (n: number | null): string =>
  n === null ? '-' : n.toLocaleString('en-US', { maximumSignificantDigits: 8 });

/** A trader's state: what it trades and how, its money, why it may not open, positions and orders. */
export function traderView(t: TraderSnapshot, style: Style): string {
  const pnl = (n: number): string => paint(style, n < 0 ? 'red' : n > 0 ? 'green' : 'grey', signed(n));
  const a = t.account;
  const st = t.strategy;
  const params = Object.entries(st.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const source = st.source ? `optimizer run ${st.source.runId}, trial ${st.source.trialId}` : 'set by hand';
  const lines = [
    `${paint(style, 'bold', t.service)} · ${paint(style, t.mode === 'live' ? 'red' : 'yellow', t.mode.toUpperCase())} · ` +
      `${t.running ? paint(style, 'green', t.reloading ? 'running (reloading)' : 'running') : paint(style, 'grey', 'not running')} · ` +
      `${t.venue} ${t.resolution} · ${st.id} v${st.version}${params ? ` (${params})` : ''}, ${source}` +
      (st.warmupLeft > 0 ? ` · warming up: ${st.warmupLeft} candles to go` : ''),
    `equity ${money(a.equity)} (from ${money(a.initialEquity)}) · day ${pnl(a.dayPnl)} · realized ${pnl(a.realizedPnl)} · ` +
      `unrealized ${pnl(a.unrealizedPnl)} · fees ${money(a.fees)}`,
    t.blocks.length === 0
      ? 'opening positions: allowed'
      : `opening positions: ${paint(style, 'yellow', `blocked (${t.blocks.join(', ')})`)}` +
        (t.feedProblem ? ` · ${t.feedProblem}` : ''),
    `limits: position ≤ ${money(t.limits.maxPositionNotional)}, order ≤ ${money(t.limits.maxOrderNotional)}, ` +
      `${t.limits.maxOrdersPerMinute} orders/min, daily loss ≤ ${money(t.limits.maxDailyLoss)}`,
  ];
  const open = t.positions.filter((p) => p.qty !== 0);
  lines.push(
    open.length === 0
      ? 'positions: none (flat)'
      : table(
          ['symbol', 'qty', 'avg price', 'mark', 'unrealized', 'realized'],
          open.map((p) => [
            { text: p.symbol },
            { text: String(p.qty) },
            { text: price(p.avgPrice) },
            { text: price(p.mark) },
            { text: signed(p.unrealizedPnl) },
            { text: signed(p.realizedPnl) },
          ]),
          style,
        ),
  );
  lines.push(
    t.workingOrders.length === 0
      ? 'working orders: none'
      : table(
          ['order', 'symbol', 'side', 'qty', 'filled', 'status', 'reason'],
          t.workingOrders.map((o) => [
            { text: o.clientOrderId },
            { text: o.symbol },
            { text: o.side },
            { text: String(o.qty) },
            { text: String(o.filledQty) },
            { text: o.status },
            { text: o.reason },
          ]),
          style,
        ),
  );
  return lines.join('\n');
}
