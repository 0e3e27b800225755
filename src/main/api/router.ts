/**
 * The one router behind both transports: it validates every input against the contract, runs the
 * handler, and always resolves to an envelope. A handler that throws becomes an `internal` error;
 * nothing a caller sends can take the process down.
 */
import type { CommandName, CommandParsedInput, CommandResult } from '../../shared/api';
import { commands, isCommandName } from '../../shared/api';
import type { Envelope } from '../../shared/errors';
import { ApiError, fail } from '../../shared/errors';
import { zodErrorToApiError } from '../../shared/validation';

export interface CallContext {
  transport: 'ipc' | 'ws' | 'internal';
}

export type Handlers = {
  [C in CommandName]: (
    input: CommandParsedInput<C>,
    ctx: CallContext,
  ) => CommandResult<C> | Promise<CommandResult<C>>;
};

export interface Router {
  dispatch(command: unknown, input: unknown, ctx: CallContext): Promise<Envelope<unknown>>;
}

export type ErrorLog = (message: string, error: unknown) => void;

export function createRouter(handlers: Handlers, logError: ErrorLog = defaultLog): Router {
  return {
    async dispatch(command, input, ctx) {
      if (!isCommandName(command)) {
        return fail('unknown_command', `unknown command: ${describe(command)}`);
      }
      const parsed = commands[command].input.safeParse(input === undefined ? {} : input);
      if (!parsed.success) return { ok: false, error: zodErrorToApiError(parsed.error) };
      try {
        const handler = handlers[command] as (input: unknown, ctx: CallContext) => unknown;
        return { ok: true, result: await handler(parsed.data, ctx) };
      } catch (error) {
        if (error instanceof ApiError) return { ok: false, error: error.toShape() };
        logError(`command ${command} failed`, error);
        const message = error instanceof Error ? error.message : String(error);
        return fail('internal', `${command} failed: ${message}`);
      }
    },
  };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 128));
  return value === undefined ? 'none given' : typeof value;
}

function defaultLog(message: string, error: unknown): void {
  console.error(`[api] ${message}:`, error);
}
