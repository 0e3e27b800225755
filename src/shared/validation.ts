import type { z } from 'zod';
import type { ApiErrorShape } from './errors';

/** Turns a schema failure into the API's error shape, naming the first offending field. */
export function zodErrorToApiError(error: z.ZodError, root = 'input'): ApiErrorShape {
  let issue = error.issues[0];
  if (!issue) return { code: 'invalid_input', message: `${root} is invalid` };
  const path = issue.path.map(String);
  // A bad record key (e.g. an environment variable name; the path ends with it): say what the key
  // itself must be rather than zod's "Invalid key in record".
  if (issue.code === 'invalid_key' && issue.issues[0]) issue = { ...issue.issues[0], path: issue.path };
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
