/**
 * Builds `window.vigil` from a transport. The preload (Electron IPC) and the renderer's WebSocket
 * client both call this, so the renderer sees the same object whichever transport it has.
 */
import type { CommandInput, CommandName, CommandResult, EventName, EventPayload } from './api';
import { commandNames } from './api';
import type { Envelope } from './errors';

export interface Transport {
  invoke(command: CommandName, input: unknown): Promise<Envelope<unknown>>;
  /** Deliver events of these topics to the listener until the returned function is called. */
  subscribe(topics: EventName[], listener: (event: EventName, payload: unknown) => void): () => void;
}

type CommandFn<C extends CommandName> =
  Record<string, never> extends CommandInput<C>
    ? (input?: CommandInput<C>) => Promise<Envelope<CommandResult<C>>>
    : (input: CommandInput<C>) => Promise<Envelope<CommandResult<C>>>;

type Namespace<C extends string> = C extends `${infer N}.${string}` ? N : never;

export type VigilCommands = {
  [N in Namespace<CommandName>]: {
    [C in CommandName as C extends `${N}.${infer M}` ? M : never]: CommandFn<C>;
  };
};

export interface VigilApi extends VigilCommands {
  /** Listen to one event; returns the function that stops listening. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

export function createClient(transport: Transport): VigilApi {
  const api: Record<string, Record<string, unknown>> = {};
  for (const name of commandNames) {
    const [ns, method] = name.split('.') as [string, string];
    api[ns] ??= {};
    api[ns][method] = (input?: unknown) => transport.invoke(name, input ?? {});
  }
  const on = (event: EventName, listener: (payload: unknown) => void) =>
    transport.subscribe([event], (_event, payload) => listener(payload));
  return Object.assign(api, { on }) as unknown as VigilApi;
}

/** The exposed key paths of a client ("app.info", ..., "on"), to check a bridge against the contract. */
export function exposedKeys(api: object): string[] {
  const keys: string[] = [];
  for (const [k, v] of Object.entries(api)) {
    if (typeof v === 'function') keys.push(k);
    else if (typeof v === 'object' && v !== null) for (const m of Object.keys(v)) keys.push(`${k}.${m}`);
  }
  return keys.sort();
}
