/**
 * What each `vigil` command does over the control API (the same client the UI has), and the exit code
 * it ends with. Output goes through CliIo, so nothing here touches the process directly.
 */
import type { CommandResult } from '../shared/api';
import type { VigilApi } from '../shared/client';
import type { ConfigChange } from '../shared/config';
import type { Envelope } from '../shared/errors';
import type { EventRecord } from '../shared/history';
import {
  isTrading,
  memoryBand,
  overallStatus,
  traderConfirmMode,
  traderMode,
  traderSymbols,
} from '../shared/service-status';
import type { LogLine, ServiceInfo } from '../shared/services';
import { EXIT, type CliArgs, type CliCommand } from './args';
import { eventView, logLineView, serviceLine, statusView, traderView, type Style } from './format';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question; anything but yes (or no answer at all) is no. */
  ask(question: string): Promise<boolean>;
  /** A file's text; `-` is standard input. */
  readText(path: string): Promise<string>;
  writeText(path: string, text: string): Promise<void>;
  /** Resolves when the person interrupts (Ctrl-C). */
  untilInterrupted(): Promise<void>;
  style: Style;
}

/** Ends the command with a message and an exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface RunContext {
  api: VigilApi;
  io: CliIo;
  args: CliArgs;
  /** Resolves with why when the connection drops by itself. */
  lost: Promise<string>;
}

export async function runCommand(command: CliCommand, ctx: RunContext): Promise<number> {
  switch (command.name) {
    case 'status':
      return status(ctx);
    case 'service':
      return serviceAction(ctx, command);
    case 'logs':
      return logs(ctx, command);
    case 'events':
      return events(ctx, command);
    case 'config-export':
      return configExport(ctx, command);
    case 'config-import':
      return configImport(ctx, command);
    case 'trade':
      return trade(ctx, command);
    case 'trader':
      return traderState(ctx, command);
  }
}

/** The result, or the API's error as a CommandError; `service` names the service a bad name was. */
function unwrap<T>(envelope: Envelope<T>, service?: string): T {
  if (envelope.ok) return envelope.result;
  const { code, message, field } = envelope.error;
  const text =
    code === 'invalid_input' && field === 'name' && service !== undefined
      ? `"${service}" is not a service name: it ${message.replace(/^name: /, '')}`
      : message;
  throw new CommandError(
    text,
    code === 'unavailable'
      ? EXIT.unreachable
      : code === 'confirmation-required'
        ? EXIT.declined
        : EXIT.failed,
  );
}

const json = (value: unknown): string => JSON.stringify(value, null, 2);

async function status({ api, io, args }: RunContext): Promise<number> {
  const [app, services] = await Promise.all([api.app.info(), api.services.list()]);
  const list = unwrap(services);
  const overSoft = list
    .filter((s) => memoryBand(s.rssBytes, s.definition.memory.softBytes, null) === 'soft')
    .map((s) => s.name);
  const overall = overallStatus(list, overSoft);
  if (args.json) io.out(json({ app: unwrap(app), overall, services: list }));
  else io.out(statusView(unwrap(app), overall, list, io.style));
  return EXIT.ok;
}

async function serviceAction(
  { api, io, args }: RunContext,
  c: Extract<CliCommand, { name: 'service' }>,
): Promise<number> {
  const name = c.service;
  const reply =
    c.action === 'stop'
      ? await api.services.stop({ name })
      : await api.services[c.action]({ name, ...(c.confirm ? { confirm: { mode: c.confirm } } : {}) });
  if (!reply.ok && reply.error.code === 'confirmation-required') {
    // Say how: the flag that confirms what this trader trades.
    const info = await api.services.get({ name });
    const mode = info.ok ? traderConfirmMode(info.result) : null;
    const how = mode ? ` (vigil ${c.action} ${name} --confirm ${mode})` : '';
    throw new CommandError(`${reply.error.message}${how}`, EXIT.declined);
  }
  const info = unwrap(reply, name);
  io.out(args.json ? json(info) : serviceLine(info));
  return EXIT.ok;
}

async function logs(
  { api, io, args, lost }: RunContext,
  c: Extract<CliCommand, { name: 'logs' }>,
): Promise<number> {
  const show = (line: LogLine): void =>
    io.out(args.json ? JSON.stringify(line) : logLineView(line, io.style));
  // Following: listen before reading the tail, so no line falls between the two.
  const buffered: LogLine[] = [];
  let live: ((line: LogLine) => void) | null = null;
  const off = c.follow
    ? api.on('service.log', ({ service, lines }) => {
        if (service !== c.service) return;
        for (const line of lines) {
          if (c.stream !== null && line.stream !== c.stream) continue;
          if (live) live(line);
          else buffered.push(line);
        }
      })
    : null;
  try {
    const tail = unwrap(
      await api.services.logs({ name: c.service, lines: c.lines, ...(c.stream ? { stream: c.stream } : {}) }),
      c.service,
    );
    tail.forEach(show);
    if (!c.follow) return EXIT.ok;
    let lastSeq = tail.at(-1)?.seq ?? 0;
    live = (line) => {
      if (line.seq <= lastSeq) return;
      lastSeq = line.seq;
      show(line);
    };
    for (const line of buffered.splice(0)) live(line);
    const why = await Promise.race([io.untilInterrupted().then(() => null), lost]);
    if (why !== null) throw new CommandError(why, EXIT.unreachable);
    return EXIT.ok;
  } finally {
    off?.();
  }
}

async function events(
  { api, io, args }: RunContext,
  c: Extract<CliCommand, { name: 'events' }>,
): Promise<number> {
  const items: EventRecord[] = [];
  let before: number | undefined;
  // Newest first, a page at a time, until the limit or the start of the range.
  while (items.length < c.limit) {
    const page = unwrap(
      await api.events.list({
        limit: Math.min(1000, c.limit - items.length),
        ...(c.service ? { service: c.service } : {}),
        ...(c.since !== null ? { from: c.since } : {}),
        ...(before !== undefined ? { before } : {}),
      }),
    );
    items.push(...page.items);
    if (page.next === null) break;
    before = page.next;
  }
  items.reverse();
  if (args.json) io.out(json(items));
  else if (items.length === 0) io.out('No events.');
  else for (const e of items) io.out(eventView(e, io.style));
  return EXIT.ok;
}

async function configExport(
  { api, io, args }: RunContext,
  c: Extract<CliCommand, { name: 'config-export' }>,
): Promise<number> {
  const result = unwrap(await api.config.export({ format: c.format }));
  if (c.output !== null) {
    await io.writeText(c.output, result.text);
    if (args.json) io.out(json({ format: result.format, output: c.output }));
    else io.out(`wrote the configuration (${result.format}) to ${c.output}`);
  } else if (args.json) io.out(json(result));
  else io.out(result.text.replace(/\n$/, ''));
  return EXIT.ok;
}

async function configImport(
  { api, io, args }: RunContext,
  c: Extract<CliCommand, { name: 'config-import' }>,
): Promise<number> {
  let text: string;
  try {
    text = await io.readText(c.file);
  } catch (error) {
    throw new CommandError(`cannot read ${c.file}: ${(error as Error).message}`, EXIT.usage);
  }
  const format = c.format ?? formatOfFile(c.file);
  const input = { text, ...(format ? { format } : {}) };
  const plan = unwrap(await api.config.import({ ...input, dryRun: true }));
  const say = (result: CommandResult<'config.import'>, line: string): void =>
    io.out(args.json ? json(result) : line);
  if (!args.json) for (const change of plan.changes) io.out(changeView(change));
  if (plan.changes.length === 0) {
    say(plan, 'The configuration is already this: nothing to change.');
    return EXIT.ok;
  }
  const count = `${plan.changes.length} change${plan.changes.length === 1 ? '' : 's'}`;
  if (c.dryRun) {
    say(plan, `Dry run: ${count}, nothing applied.`);
    return EXIT.ok;
  }
  if (!args.yes && !(await io.ask(`Replace Vigil's configuration (${count})?`))) return declined(io);
  const applied = unwrap(await api.config.import({ ...input, dryRun: false }));
  say(applied, `Applied ${count}.`);
  return EXIT.ok;
}

async function trade(
  { api, io, args }: RunContext,
  c: Extract<CliCommand, { name: 'trade' }>,
): Promise<number> {
  const services = unwrap(await api.services.list());
  const trader = pickTrader(services, c.service);
  const mode = traderMode(trader);
  const symbols = traderSymbols(trader);
  const what =
    `${trader.name}, mode ${mode.mode === 'live' ? 'LIVE (real orders)' : mode.label}, ` +
    `symbols ${symbols?.join(', ') ?? 'not named in its configuration'}`;
  const trading = isTrading(trader);
  if (c.action === 'start' && trading) {
    io.out(args.json ? json(trader) : `${trader.name} is already trading (${trader.state}).`);
    return EXIT.ok;
  }
  if (c.action === 'stop' && !trading) {
    io.out(args.json ? json(trader) : `${trader.name} is not trading (${trader.state}).`);
    return EXIT.ok;
  }
  const question = c.action === 'start' ? `Start trading: ${what}?` : `Stop trading: ${what}?`;
  if (!args.yes && !(await io.ask(question))) return declined(io);
  // Confirmed (asked, or --yes): the mode the question named goes with the start.
  const info = unwrap(
    c.action === 'start'
      ? await api.services.start({ name: trader.name, confirm: { mode: traderConfirmMode(trader) } })
      : await api.services.stop({ name: trader.name }),
  );
  io.out(args.json ? json(info) : serviceLine(info));
  return EXIT.ok;
}

async function traderState(
  { api, io, args }: RunContext,
  c: Extract<CliCommand, { name: 'trader' }>,
): Promise<number> {
  const name = c.service ?? pickTrader(unwrap(await api.services.list()), null, 'trader').name;
  const snapshot = unwrap(await api.trader.state({ name }), name);
  io.out(args.json ? json(snapshot) : traderView(snapshot, io.style));
  return EXIT.ok;
}

function pickTrader(
  services: readonly ServiceInfo[],
  name: string | null,
  usage = 'trade start',
): ServiceInfo {
  if (name !== null) {
    const s = services.find((x) => x.name === name);
    if (!s) throw new CommandError(`no service named "${name}"`, EXIT.failed);
    if (s.kind !== 'trader')
      throw new CommandError(`${name} is a ${s.kind} service, not a trader`, EXIT.failed);
    return s;
  }
  const traders = services.filter((s) => s.kind === 'trader');
  if (traders.length === 0) throw new CommandError('no trader service is configured', EXIT.failed);
  if (traders.length > 1)
    throw new CommandError(
      `there are several traders (${traders.map((t) => t.name).join(', ')}): name one, e.g. vigil ${usage} ${traders[0]!.name}`,
      EXIT.usage,
    );
  return traders[0]!;
}

function declined(io: CliIo): number {
  io.err('vigil: not confirmed: nothing was done (--yes skips the question)');
  return EXIT.declined;
}

function formatOfFile(path: string): 'json' | 'yaml' | null {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.ya?ml$/i.test(path)) return 'yaml';
  return null;
}

function changeView(c: ConfigChange): string {
  const show = (v: unknown): string => {
    const text = JSON.stringify(v) ?? 'undefined';
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  if (c.kind === 'add') return `+ ${c.path}: ${show(c.after)}`;
  if (c.kind === 'remove') return `- ${c.path}: ${show(c.before)}`;
  return `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`;
}
