/** Calls a command by its contract name (for the API console), through the same client as the UI. */
import type { CommandName } from '../../../shared/api';
import type { VigilApi } from '../../../shared/client';
import type { Envelope } from '../../../shared/errors';

type Method = (input: unknown) => Promise<Envelope<unknown>>;

export function invokeByName(api: VigilApi, name: CommandName, input: unknown): Promise<Envelope<unknown>> {
  const [ns = '', method = ''] = name.split('.');
  const group = (api as unknown as Record<string, Record<string, Method> | undefined>)[ns];
  const fn = group?.[method];
  if (typeof fn !== 'function') {
    return Promise.resolve({
      ok: false,
      error: { code: 'unknown_command', message: `${name} is not exposed` },
    });
  }
  return fn(input);
}
