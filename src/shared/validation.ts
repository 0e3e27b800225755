import type { z } from 'zod';
import type { ApiErrorShape } from './errors';

/** Turns a schema failure into the API's error shape, naming the first offending field. */
export function zodErrorToApiError(error: z.ZodError, root = 'input'): ApiErrorShape {
  const issue = error.issues[0];
  if (!issue) return { code: 'invalid_input', message: `${root} is invalid` };
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0]!);
  const field = path.join('.');
  const where = field === '' ? root : field;
  const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
  const message =
    issue.code === 'unrecognized_keys'
      ? `${where}: unknown field`
      : missing
        ? `${where}: is required`
        : `${where}: ${issue.message}`;
  return field === '' ? { code: 'invalid_input', message } : { code: 'invalid_input', message, field };
}
