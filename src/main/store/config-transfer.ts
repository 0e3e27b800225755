/**
 * The whole configuration (services and settings) as one document a person can export, keep in git,
 * edit by hand and import again. Parsing never throws: every problem comes back with where it is, so
 * an import can be refused with a reason and previewed (`diffConfig`) before anything changes.
 */
import { Document, isScalar, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import {
  resolveDefinition,
  serviceDefinitionSchema,
  type ServiceDefinition,
} from '../../shared/service-definition';
import type { ConfigChange, VigilConfig } from '../../shared/config';
import { settingsSchema } from '../../shared/settings';
import { zodErrorToApiError } from '../../shared/validation';
import { findDeepYamlNesting, findJsonSyntaxError, lineAndColumn } from './text-syntax';

/** The document format this Vigil writes and the newest it reads. */
export const CONFIG_VERSION: VigilConfig['version'] = 1;
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** Anchors and aliases are fine in a hand-written file; an exponential expansion of them is not. */
export const MAX_YAML_ALIASES = 100;
/** A config nests about 8 levels; the YAML composer recurses per level and a few hundred exhaust the stack. */
export const MAX_YAML_DEPTH = 64;
/** Enough to fix a file in one pass without burying the first problem. */
const MAX_REPORTED_PROBLEMS = 10;

// Declared once in shared (the renderer shows them too); re-exported so callers need one import.
export type { ConfigChange, VigilConfig };

export type ConfigFormat = 'json' | 'yaml';

export interface ConfigError {
  code: 'invalid_input';
  message: string;
  field?: string;
}

export type ParseConfigResult = { ok: true; config: VigilConfig } | { ok: false; error: ConfigError };

const TOP_LEVEL_FIELDS = ['version', 'services', 'settings'];

const YAML_HEADER =
  `# Vigil configuration (config version ${CONFIG_VERSION}): the supervised services and the app settings.\n` +
  '# A service needs only name, kind and program when written by hand: its role preset fills the rest.\n';

// ---------------------------------------------------------------------------------------------------
// Export

/** The config as text: fields in schema order (not insertion order), so exports diff cleanly. */
export function exportConfig(config: VigilConfig, format: ConfigFormat): string {
  const document = {
    version: CONFIG_VERSION,
    services: config.services.map(canonicalService),
    settings: canonical(settingsSchema, config.settings),
  };
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  // Shared objects (role presets hand out the same backoff) must not become anchors in the output;
  // compat quotes strings a YAML 1.1 reader (PyYAML, older tools) would take as booleans or numbers.
  const doc = new Document(document, { aliasDuplicateObjects: false, compat: 'yaml-1.1' });
  // Lists of plain values (args, stepsMs, exit codes, dependsOn) read better on one line.
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return YAML_HEADER + doc.toString({ flowCollectionPadding: false });
}

function canonicalService(definition: ServiceDefinition): ServiceDefinition {
  const d = canonical(serviceDefinitionSchema, definition);
  return { ...d, env: Object.fromEntries(Object.entries(d.env).sort(([a], [b]) => (a < b ? -1 : 1))) };
}

/** Zod builds its output in the schema's key order; a value that does not fit is written as it is. */
function canonical<T>(schema: z.ZodType<T>, value: T): T {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : value;
}

// ---------------------------------------------------------------------------------------------------
// Parse

type Read = { ok: true; value: unknown } | { ok: false; error: ConfigError };

interface Problem {
  field: string;
  /** The whole line, field first: "services.2.restart.policy: …". */
  message: string;
}

/**
 * Text → a validated config. The format is JSON when the text starts with `{`, YAML otherwise. Services
 * may be full definitions or inputs (name, kind, program and overrides); both are resolved against
 * their role preset. `settings` may be left out (defaults) or partial (defaults fill the rest).
 */
export function parseConfig(text: string, format?: ConfigFormat): ParseConfigResult {
  try {
    return parseText(text, format);
  } catch (error) {
    // Defence in depth: a hostile document that trips a parser limit still gets an answer.
    return invalid(`the document could not be read: ${(error as Error).message}`);
  }
}

function parseText(text: unknown, format: ConfigFormat | undefined): ParseConfigResult {
  if (typeof text !== 'string') return invalid('the document must be text');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) {
    return invalid(`the document is ${bytes} bytes; the limit is 2 MiB (${MAX_CONFIG_BYTES} bytes)`);
  }
  const body = text.replace(/^\uFEFF/, '');
  if (body.trim() === '') return invalid('the document is empty');
  const read = (format ?? sniffFormat(body)) === 'json' ? readJson(body) : readYaml(body);
  return read.ok ? validateDocument(read.value) : read;
}

function sniffFormat(body: string): ConfigFormat {
  return body.trimStart().startsWith('{') ? 'json' : 'yaml';
}

function readJson(text: string): Read {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const found = findJsonSyntaxError(text);
    return found
      ? invalid(`${lineAndColumn(text, found.offset)}: ${found.message}`)
      : invalid(`not valid JSON: ${(error as Error).message}`);
  }
}

function readYaml(text: string): Read {
  const tooDeep = findDeepYamlNesting(text, MAX_YAML_DEPTH);
  if (tooDeep !== null) {
    return invalid(
      `${lineAndColumn(text, tooDeep)}: the document nests deeper than ${MAX_YAML_DEPTH} levels (a Vigil config needs about 8)`,
    );
  }
  // merge: `<<: *defaults` is the usual way to share a restart policy between services by hand.
  const doc = parseDocument(text, { prettyErrors: false, merge: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) return invalid(`${lineAndColumn(text, first.pos[0])}: ${first.message}`);
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) as unknown };
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      return invalid(
        `the document expands its aliases too far (more than ${MAX_YAML_ALIASES} uses): refused as a possible ` +
          'resource exhaustion attack; write the repeated parts out instead',
      );
    }
    throw error;
  }
}

function validateDocument(value: unknown): ParseConfigResult {
  if (value === null || value === undefined) return invalid('the document is empty');
  if (typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return invalid(`the document must be a mapping with version, services and settings, not ${what}`);
  }
  const doc = value as Record<string, unknown>;
  // The version first: a newer document may have fields this Vigil does not know, and that is the reason.
  const versionProblem = checkVersion(doc.version);
  if (versionProblem) return versionProblem;
  const stray = Object.keys(doc).find((key) => !TOP_LEVEL_FIELDS.includes(key));
  if (stray !== undefined) {
    return invalid(`${stray}: unknown field (a config has version, services and settings)`, stray);
  }
  if (!Array.isArray(doc.services)) {
    const why = doc.services === undefined ? 'is required (it may be an empty list)' : 'must be a list';
    return invalid(`services: ${why}`, 'services');
  }

  const problems: Problem[] = [];
  const services = resolveServices(doc.services, problems);
  const settings = settingsSchema.safeParse(doc.settings === undefined ? {} : doc.settings);
  if (!settings.success) problems.push(...zodProblems(settings.error, 'settings'));
  if (problems.length > 0 || !settings.success) return invalidAll(problems);
  return { ok: true, config: { version: CONFIG_VERSION, services, settings: settings.data } };
}

function checkVersion(version: unknown): { ok: false; error: ConfigError } | null {
  if (version === CONFIG_VERSION) return null;
  if (version === undefined) {
    return invalid(`version: is required (this Vigil writes config version ${CONFIG_VERSION})`, 'version');
  }
  if (typeof version === 'number' && Number.isInteger(version) && version > CONFIG_VERSION) {
    return invalid(
      `version: this document is config version ${version}, from a newer Vigil; this Vigil reads config ` +
        `version ${CONFIG_VERSION}. Update Vigil to import it.`,
      'version',
    );
  }
  return invalid(`version: must be ${CONFIG_VERSION}, the Vigil config version`, 'version');
}

/** Each entry through its role preset, then the rules between services: names, dependencies, cycles. */
function resolveServices(entries: unknown[], problems: Problem[]): ServiceDefinition[] {
  const resolved: { index: number; definition: ServiceDefinition }[] = [];
  entries.forEach((entry, index) => {
    const r = resolveDefinition(entry);
    if (r.ok) resolved.push({ index, definition: r.definition });
    else problems.push(...zodProblems(r.error, `services.${index}`));
  });

  // Names of invalid entries count too: one bad field must not make its dependents "unknown" as well.
  const known = new Set(entries.map((e) => (isRecord(e) && typeof e.name === 'string' ? e.name : null)));
  const firstIndex = new Map<string, number>();
  for (const { index, definition } of resolved) {
    const { name, dependsOn } = definition;
    const earlier = firstIndex.get(name);
    if (earlier === undefined) firstIndex.set(name, index);
    else problem(problems, `services.${index}.name`, `"${name}" is already the name of services.${earlier}`);
    dependsOn.forEach((dep, j) => {
      if (!known.has(dep)) problem(problems, `services.${index}.dependsOn.${j}`, `no service named "${dep}"`);
    });
  }
  for (const cycle of findCycles(resolved)) {
    problem(problems, `services.${cycle.index}.dependsOn.${cycle.edge}`, describeCycle(cycle.names));
  }
  return resolved.map((r) => r.definition);
}

interface Cycle {
  /** The entry whose dependency closes the cycle, and which of its dependsOn it is. */
  index: number;
  edge: number;
  names: string[];
}

/** Depth-first with an explicit stack: a long dependency chain cannot exhaust the call stack. */
function findCycles(services: { index: number; definition: ServiceDefinition }[]): Cycle[] {
  const byName = new Map<string, { index: number; definition: ServiceDefinition }>();
  for (const s of services) if (!byName.has(s.definition.name)) byName.set(s.definition.name, s);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: Cycle[] = [];
  for (const root of byName.keys()) {
    if (state.has(root)) continue;
    const stack = [{ name: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const service = byName.get(frame.name)!;
      const deps = service.definition.dependsOn;
      if (frame.next >= deps.length) {
        state.set(frame.name, 'done');
        stack.pop();
        continue;
      }
      const edge = frame.next++;
      const dep = deps[edge]!;
      if (!byName.has(dep)) continue; // reported as an unknown dependency
      const seen = state.get(dep);
      if (seen === 'open') {
        const from = stack.findIndex((f) => f.name === dep);
        cycles.push({ index: service.index, edge, names: [...stack.slice(from).map((f) => f.name), dep] });
      } else if (seen === undefined) {
        state.set(dep, 'open');
        stack.push({ name: dep, next: 0 });
      }
    }
  }
  return cycles;
}

/** a → b → a; a long cycle keeps its ends so the message stays readable. */
function describeCycle(names: string[]): string {
  const services = names.length - 1; // the first name closes the cycle again
  if (names.length <= 9) return `a dependency cycle: ${names.join(' → ')}`;
  const shown = [...names.slice(0, 4), '…', ...names.slice(-4)];
  return `a dependency cycle of ${services} services: ${shown.join(' → ')}`;
}

function zodProblems(error: z.ZodError, prefix: string): Problem[] {
  return error.issues.map((issue) => {
    const e = zodErrorToApiError(new z.ZodError([issue]), prefix);
    return e.field === undefined
      ? { field: prefix, message: e.message }
      : { field: `${prefix}.${e.field}`, message: `${prefix}.${e.message}` };
  });
}

function problem(problems: Problem[], field: string, message: string): void {
  problems.push({ field, message: `${field}: ${message}` });
}

function invalid(message: string, field?: string): { ok: false; error: ConfigError } {
  return {
    ok: false,
    error:
      field === undefined ? { code: 'invalid_input', message } : { code: 'invalid_input', message, field },
  };
}

/** Every problem, one a line; the field is the first one's. */
function invalidAll(problems: Problem[]): { ok: false; error: ConfigError } {
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).map((p) => p.message);
  const more = problems.length - shown.length;
  if (more > 0) shown.push(`… and ${more} more problem${more === 1 ? '' : 's'}`);
  return invalid(shown.join('\n'), problems[0]?.field);
}

// ---------------------------------------------------------------------------------------------------
// Diff

/**
 * What importing `incoming` over `current` would change, for a dry run: services matched by name,
 * changes down to the field, a reorder reported once, settings field by field. Empty when identical.
 */
export function diffConfig(current: VigilConfig, incoming: VigilConfig): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const before = byName(current.services);
  const after = byName(incoming.services);
  for (const [name, definition] of before) {
    if (!after.has(name)) changes.push({ kind: 'remove', path: `services.${name}`, before: definition });
  }
  for (const [name, definition] of after) {
    const old = before.get(name);
    if (old === undefined) changes.push({ kind: 'add', path: `services.${name}`, after: definition });
    else diffValue(`services.${name}`, old, definition, changes);
  }
  // Only the services on both sides: an add or remove alone is not a reorder.
  const kept = (m: Map<string, ServiceDefinition>) =>
    [...m.keys()].filter((n) => before.has(n) && after.has(n));
  const oldOrder = kept(before);
  const newOrder = kept(after);
  if (!isDeepEqual(oldOrder, newOrder)) {
    changes.push({ kind: 'change', path: 'services (order)', before: oldOrder, after: newOrder });
  }
  diffValue('settings', current.settings, incoming.settings, changes);
  return changes;
}

function byName(services: ServiceDefinition[]): Map<string, ServiceDefinition> {
  return new Map(services.map((s) => [s.name, s]));
}

function diffValue(path: string, before: unknown, after: unknown, out: ConfigChange[]): void {
  if (isDeepEqual(before, after)) return;
  // Objects of different variants (a steps backoff becoming exponential) change as a whole; field by
  // field they would read as a pile of unrelated adds and removes. Arrays change as a whole too.
  if (!isRecord(before) || !isRecord(after) || before.type !== after.type) {
    out.push({ kind: 'change', path, before, after });
    return;
  }
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) out.push({ kind: 'remove', path: `${path}.${key}`, before: before[key] });
    else diffValue(`${path}.${key}`, before[key], after[key], out);
  }
  for (const key of Object.keys(after)) {
    if (!Object.hasOwn(before, key)) out.push({ kind: 'add', path: `${path}.${key}`, after: after[key] });
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => isDeepEqual(x, b[i]))
    );
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && isDeepEqual(a[k], b[k]))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
