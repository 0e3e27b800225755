/**
 * The service definition form, as pure functions: which fields it edits, text ↔ values, and
 * validation by the very function the API applies (`resolveDefinition`), so the form refuses exactly
 * what `services.add` / `services.update` would, and each problem lands at the field it concerns.
 */
import type { z } from 'zod';
import type { ServiceDefinition } from '../../../shared/service-definition';
import { COLLECTOR_STEPS_MS, resolveDefinition, stopSignals } from '../../../shared/service-definition';
import type { BuiltinProgram } from '../../../shared/services';
import { serviceKinds } from '../../../shared/services';

export const fieldPaths = [
  'name',
  'kind',
  'description',
  'program.type',
  'program.name',
  'program.command',
  'program.args',
  'protocol',
  'cwd',
  'env',
  'autostart',
  'dependsOn',
  'readiness.type',
  'readiness.timeoutMs',
  'readiness.url',
  'readiness.intervalMs',
  'readiness.uptimeMs',
  'stop.signal',
  'stop.timeoutMs',
  'restart.policy',
  'restart.backoff.type',
  'restart.backoff.initialMs',
  'restart.backoff.factor',
  'restart.backoff.capMs',
  'restart.backoff.jitter',
  'restart.backoff.stepsMs',
  'restart.resetAfterMs',
  'restart.minUptimeMs',
  'restart.crashLoop.maxFailures',
  'restart.crashLoop.windowMs',
  'restart.crashLoop.action',
  'restart.successExitCodes',
  'restart.noRestartExitCodes',
  'heartbeat',
  'heartbeat.intervalMs',
  'heartbeat.timeoutMs',
  'probe',
  'probe.url',
  'probe.intervalMs',
  'probe.timeoutMs',
  'probe.failureThreshold',
  'memory.softBytes',
  'memory.hardBytes',
  'memory.hardSamples',
  'config',
] as const;
export type FieldPath = (typeof fieldPaths)[number];

/**
 * text / text-null (empty: none) / textarea; int / int-null / number; bool ('true' | 'false');
 * choice (one of `options`; an empty value means "the preset of its kind" and is left out);
 * lines (one string per line); int-list (numbers separated by commas or spaces); env (NAME=value
 * per line); deps (service names, comma separated); json (an object, empty: none).
 */
export type FieldType =
  | 'text'
  | 'text-null'
  | 'textarea'
  | 'int'
  | 'int-null'
  | 'number'
  | 'bool'
  | 'choice'
  | 'lines'
  | 'int-list'
  | 'env'
  | 'deps'
  | 'json';

export interface FieldSpec {
  path: FieldPath;
  label: string;
  type: FieldType;
  unit?: string;
  options?: readonly { value: string; label: string }[];
  hint?: string;
  placeholder?: string;
}

const choices = (values: readonly string[]) => values.map((v) => ({ value: v, label: v }));

export const fieldSpecs: Record<FieldPath, FieldSpec> = {
  name: {
    path: 'name',
    label: 'Name',
    type: 'text',
    hint: 'Lower-case letters, digits, ".", "_" or "-". It cannot be changed later.',
    placeholder: 'my-strategy',
  },
  kind: {
    path: 'kind',
    label: 'Kind',
    type: 'choice',
    options: choices(serviceKinds),
    hint: 'Chooses the preset: restart policy, crash-loop rule, stop timeout, autostart.',
  },
  description: { path: 'description', label: 'Description', type: 'text', hint: 'Up to 500 characters.' },
  'program.type': {
    path: 'program.type',
    label: 'Program',
    type: 'choice',
    options: [
      { value: 'command', label: 'Command (any executable)' },
      { value: 'builtin', label: 'Built-in program' },
    ],
  },
  'program.name': {
    path: 'program.name',
    label: 'Built-in name',
    type: 'text',
    hint: 'e.g. collector, selfcheck, simulator.',
  },
  'program.command': {
    path: 'program.command',
    label: 'Command',
    type: 'text',
    hint: 'An executable on the PATH or an absolute path.',
    placeholder: '/usr/bin/python3',
  },
  'program.args': {
    path: 'program.args',
    label: 'Arguments',
    type: 'lines',
    hint: 'One argument per line, as the program receives it (no shell quoting).',
  },
  protocol: {
    path: 'protocol',
    label: 'Protocol',
    type: 'choice',
    options: [
      { value: 'none', label: 'none (a plain command)' },
      { value: 'vigil', label: 'vigil (ready, heartbeats, pause over IPC)' },
    ],
  },
  cwd: { path: 'cwd', label: 'Working directory', type: 'text-null', hint: 'Empty: the data directory.' },
  env: { path: 'env', label: 'Environment', type: 'env', hint: 'One NAME=value per line.' },
  autostart: { path: 'autostart', label: 'Autostart', type: 'bool', hint: 'Start it when Vigil starts.' },
  dependsOn: {
    path: 'dependsOn',
    label: 'Depends on',
    type: 'deps',
    hint: 'Started first, and must be running before this one starts.',
  },
  'readiness.type': {
    path: 'readiness.type',
    label: 'Ready when',
    type: 'choice',
    options: [
      { value: 'message', label: 'it sends a ready message' },
      { value: 'http', label: 'an HTTP URL answers' },
      { value: 'uptime', label: 'it has stayed up for a while' },
    ],
  },
  'readiness.timeoutMs': { path: 'readiness.timeoutMs', label: 'Ready within', type: 'int', unit: 'ms' },
  'readiness.url': { path: 'readiness.url', label: 'Readiness URL', type: 'text', placeholder: 'http://…' },
  'readiness.intervalMs': { path: 'readiness.intervalMs', label: 'Poll every', type: 'int', unit: 'ms' },
  'readiness.uptimeMs': { path: 'readiness.uptimeMs', label: 'Up for', type: 'int', unit: 'ms' },
  'stop.signal': { path: 'stop.signal', label: 'Stop signal', type: 'choice', options: choices(stopSignals) },
  'stop.timeoutMs': {
    path: 'stop.timeoutMs',
    label: 'Stop timeout',
    type: 'int',
    unit: 'ms',
    hint: 'Then SIGKILL to the whole process group.',
  },
  'restart.policy': {
    path: 'restart.policy',
    label: 'Restart',
    type: 'choice',
    options: [
      { value: 'always', label: 'always' },
      { value: 'on-failure', label: 'on failure' },
      { value: 'never', label: 'never' },
    ],
  },
  'restart.backoff.type': {
    path: 'restart.backoff.type',
    label: 'Backoff',
    type: 'choice',
    options: [
      { value: 'exponential', label: 'exponential' },
      { value: 'steps', label: 'fixed steps' },
    ],
  },
  'restart.backoff.initialMs': {
    path: 'restart.backoff.initialMs',
    label: 'First delay',
    type: 'int',
    unit: 'ms',
  },
  'restart.backoff.factor': { path: 'restart.backoff.factor', label: 'Factor', type: 'number', unit: '×' },
  'restart.backoff.capMs': { path: 'restart.backoff.capMs', label: 'Longest delay', type: 'int', unit: 'ms' },
  'restart.backoff.jitter': {
    path: 'restart.backoff.jitter',
    label: 'Jitter',
    type: 'number',
    hint: '0–1: the share of each delay that is random.',
  },
  'restart.backoff.stepsMs': {
    path: 'restart.backoff.stepsMs',
    label: 'Delays',
    type: 'int-list',
    unit: 'ms',
    hint: 'Before the 1st, 2nd, … restart; the last one repeats.',
  },
  'restart.resetAfterMs': {
    path: 'restart.resetAfterMs',
    label: 'Reset after',
    type: 'int',
    unit: 'ms',
    hint: 'Up this long: the restart counter goes back to zero.',
  },
  'restart.minUptimeMs': {
    path: 'restart.minUptimeMs',
    label: 'Minimum uptime',
    type: 'int',
    unit: 'ms',
    hint: 'An exit sooner after ready counts as a failed start.',
  },
  'restart.crashLoop.maxFailures': {
    path: 'restart.crashLoop.maxFailures',
    label: 'Crash loop after',
    type: 'int',
    unit: 'failures',
  },
  'restart.crashLoop.windowMs': {
    path: 'restart.crashLoop.windowMs',
    label: '… within',
    type: 'int',
    unit: 'ms',
  },
  'restart.crashLoop.action': {
    path: 'restart.crashLoop.action',
    label: 'Then',
    type: 'choice',
    options: [
      { value: 'alert', label: 'alert, keep retrying at the longest delay' },
      { value: 'fatal', label: 'give up (fatal) until a person acknowledges' },
    ],
  },
  'restart.successExitCodes': {
    path: 'restart.successExitCodes',
    label: 'Success exit codes',
    type: 'int-list',
  },
  'restart.noRestartExitCodes': {
    path: 'restart.noRestartExitCodes',
    label: 'No-restart exit codes',
    type: 'int-list',
  },
  heartbeat: {
    path: 'heartbeat',
    label: 'Heartbeat',
    type: 'bool',
    hint: 'The child sends heartbeats; silence past the timeout means hung. Needs the vigil protocol.',
  },
  'heartbeat.intervalMs': { path: 'heartbeat.intervalMs', label: 'Every', type: 'int', unit: 'ms' },
  'heartbeat.timeoutMs': { path: 'heartbeat.timeoutMs', label: 'Hung after', type: 'int', unit: 'ms' },
  probe: { path: 'probe', label: 'HTTP probe', type: 'bool', hint: 'Checks a URL while it runs.' },
  'probe.url': { path: 'probe.url', label: 'Probe URL', type: 'text', placeholder: 'http://…' },
  'probe.intervalMs': { path: 'probe.intervalMs', label: 'Every', type: 'int', unit: 'ms' },
  'probe.timeoutMs': { path: 'probe.timeoutMs', label: 'Timeout', type: 'int', unit: 'ms' },
  'probe.failureThreshold': {
    path: 'probe.failureThreshold',
    label: 'Unresponsive after',
    type: 'int',
    unit: 'failures',
  },
  'memory.softBytes': {
    path: 'memory.softBytes',
    label: 'Soft limit',
    type: 'int-null',
    unit: 'bytes',
    hint: 'Over it: a warning. Empty: none.',
  },
  'memory.hardBytes': {
    path: 'memory.hardBytes',
    label: 'Hard limit',
    type: 'int-null',
    unit: 'bytes',
    hint: 'Over it: a graceful restart. Empty: none.',
  },
  'memory.hardSamples': {
    path: 'memory.hardSamples',
    label: 'Hard after',
    type: 'int',
    unit: 'samples',
  },
  config: {
    path: 'config',
    label: 'Program configuration',
    type: 'json',
    hint: 'A JSON object given to the program in VIGIL_CONFIG. Empty: none.',
  },
};

export const fieldSections: { title: string; fields: FieldPath[] }[] = [
  { title: 'Service', fields: ['name', 'kind', 'description'] },
  {
    title: 'Program',
    fields: [
      'program.type',
      'program.name',
      'program.command',
      'program.args',
      'protocol',
      'cwd',
      'env',
      'config',
    ],
  },
  {
    title: 'Start and stop',
    fields: [
      'autostart',
      'dependsOn',
      'readiness.type',
      'readiness.timeoutMs',
      'readiness.url',
      'readiness.intervalMs',
      'readiness.uptimeMs',
      'stop.signal',
      'stop.timeoutMs',
    ],
  },
  {
    title: 'Restart policy',
    fields: [
      'restart.policy',
      'restart.backoff.type',
      'restart.backoff.initialMs',
      'restart.backoff.factor',
      'restart.backoff.capMs',
      'restart.backoff.jitter',
      'restart.backoff.stepsMs',
      'restart.resetAfterMs',
      'restart.minUptimeMs',
      'restart.crashLoop.maxFailures',
      'restart.crashLoop.windowMs',
      'restart.crashLoop.action',
      'restart.successExitCodes',
      'restart.noRestartExitCodes',
    ],
  },
  {
    title: 'Health',
    fields: [
      'heartbeat',
      'heartbeat.intervalMs',
      'heartbeat.timeoutMs',
      'probe',
      'probe.url',
      'probe.intervalMs',
      'probe.timeoutMs',
      'probe.failureThreshold',
    ],
  },
  { title: 'Memory', fields: ['memory.softBytes', 'memory.hardBytes', 'memory.hardSamples'] },
];

/** What the Add dialog asks; everything else comes from the preset of the kind (`resolveDefinition`). */
export const addFields: readonly FieldPath[] = [
  'name',
  'kind',
  'description',
  'program.type',
  'program.name',
  'program.command',
  'program.args',
  'cwd',
  'env',
  'autostart',
  'restart.policy',
];

/** The form's text, one string per field. */
export type Draft = Record<FieldPath, string>;
export type FieldErrors = Partial<Record<FieldPath, string>>;

export function isFieldPath(value: string): value is FieldPath {
  return (fieldPaths as readonly string[]).includes(value);
}

const lines = (text: string): string[] => text.split(/\r?\n/);
const joinList = (values: readonly (string | number)[]): string => values.join(', ');

/** The definition as the form's text; fields of other variants get sensible values to switch to. */
export function draftOf(def: ServiceDefinition): Draft {
  const backoff = def.restart.backoff;
  const readiness = def.readiness;
  const hb = def.heartbeat ?? { intervalMs: 1000, timeoutMs: 5000 };
  const probe = def.probe ?? { url: '', intervalMs: 15_000, timeoutMs: 5000, failureThreshold: 3 };
  const num = (n: number | null): string => (n === null ? '' : String(n));
  return {
    name: def.name,
    kind: def.kind,
    description: def.description,
    'program.type': def.program.type,
    'program.name': def.program.type === 'builtin' ? def.program.name : '',
    'program.command': def.program.type === 'command' ? def.program.command : '',
    'program.args': def.program.type === 'command' ? def.program.args.join('\n') : '',
    protocol: def.protocol,
    cwd: def.cwd ?? '',
    env: Object.entries(def.env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    autostart: String(def.autostart),
    dependsOn: def.dependsOn.join(', '),
    'readiness.type': readiness.type,
    'readiness.timeoutMs': String(readiness.type === 'uptime' ? 30_000 : readiness.timeoutMs),
    'readiness.url': readiness.type === 'http' ? readiness.url : '',
    'readiness.intervalMs': String(readiness.type === 'http' ? readiness.intervalMs : 1000),
    'readiness.uptimeMs': String(readiness.type === 'uptime' ? readiness.uptimeMs : 1000),
    'stop.signal': def.stop.signal,
    'stop.timeoutMs': String(def.stop.timeoutMs),
    'restart.policy': def.restart.policy,
    'restart.backoff.type': backoff.type,
    'restart.backoff.initialMs': String(backoff.type === 'exponential' ? backoff.initialMs : 1000),
    'restart.backoff.factor': String(backoff.type === 'exponential' ? backoff.factor : 2),
    'restart.backoff.capMs': String(backoff.type === 'exponential' ? backoff.capMs : 60_000),
    'restart.backoff.jitter': String(backoff.type === 'exponential' ? backoff.jitter : 0.2),
    'restart.backoff.stepsMs': joinList(backoff.type === 'steps' ? backoff.stepsMs : COLLECTOR_STEPS_MS),
    'restart.resetAfterMs': String(def.restart.resetAfterMs),
    'restart.minUptimeMs': String(def.restart.minUptimeMs),
    'restart.crashLoop.maxFailures': String(def.restart.crashLoop.maxFailures),
    'restart.crashLoop.windowMs': String(def.restart.crashLoop.windowMs),
    'restart.crashLoop.action': def.restart.crashLoop.action,
    'restart.successExitCodes': joinList(def.restart.successExitCodes),
    'restart.noRestartExitCodes': joinList(def.restart.noRestartExitCodes),
    heartbeat: String(def.heartbeat !== null),
    'heartbeat.intervalMs': String(hb.intervalMs),
    'heartbeat.timeoutMs': String(hb.timeoutMs),
    probe: String(def.probe !== null),
    'probe.url': probe.url,
    'probe.intervalMs': String(probe.intervalMs),
    'probe.timeoutMs': String(probe.timeoutMs),
    'probe.failureThreshold': String(probe.failureThreshold),
    'memory.softBytes': num(def.memory.softBytes),
    'memory.hardBytes': num(def.memory.hardBytes),
    'memory.hardSamples': String(def.memory.hardSamples),
    config: def.config === null ? '' : JSON.stringify(def.config, null, 2),
  };
}

/** A blank Add form: a custom command, everything else from the custom preset. */
export function newDraft(): Draft {
  const base = resolveDefinition({
    name: 'new',
    kind: 'custom',
    program: { type: 'command', command: 'x', args: [] },
  });
  if (!base.ok) throw new Error('the custom preset does not resolve');
  return {
    ...draftOf(base.definition),
    name: '',
    'program.command': '',
    // The Add dialog leaves these to the preset of the kind unless a person picks one.
    'restart.policy': '',
  };
}

/**
 * The Add draft for a chosen program: a built-in brings its kind, description and example
 * configuration, a custom command clears them; a field the person has edited keeps its text.
 */
export function chooseProgram(
  draft: Draft,
  program: BuiltinProgram | null,
  edited: ReadonlySet<FieldPath>,
): Draft {
  const keep = (path: FieldPath, value: string): string => (edited.has(path) ? draft[path] : value);
  if (program === null) {
    return {
      ...draft,
      'program.type': 'command',
      'program.name': '',
      kind: keep('kind', 'custom'),
      description: keep('description', ''),
      config: keep('config', ''),
    };
  }
  return {
    ...draft,
    'program.type': 'builtin',
    'program.name': program.name,
    kind: keep('kind', program.kind),
    description: keep('description', program.description),
    config: keep('config', program.config ? JSON.stringify(program.config.example, null, 2) : ''),
  };
}

/** The fields that apply to what the draft describes (the others are hidden and not sent). */
export function activeFields(draft: Draft, among: readonly FieldPath[] = fieldPaths): FieldPath[] {
  const off = new Set<FieldPath>();
  if (draft['program.type'] === 'builtin') off.add('program.command').add('program.args');
  else off.add('program.name');
  const readiness = draft['readiness.type'];
  if (readiness !== 'http') off.add('readiness.url').add('readiness.intervalMs');
  if (readiness === 'uptime') off.add('readiness.timeoutMs');
  else off.add('readiness.uptimeMs');
  if (draft['restart.backoff.type'] === 'steps') {
    for (const p of ['initialMs', 'factor', 'capMs', 'jitter'] as const) off.add(`restart.backoff.${p}`);
  } else off.add('restart.backoff.stepsMs');
  if (draft.heartbeat !== 'true') off.add('heartbeat.intervalMs').add('heartbeat.timeoutMs');
  if (draft.probe !== 'true') {
    for (const p of ['url', 'intervalMs', 'timeoutMs', 'failureThreshold'] as const) off.add(`probe.${p}`);
  }
  return among.filter((p) => !off.has(p));
}

/** The fields whose text differs from `base`. */
export function changedFields(
  draft: Draft,
  base: Draft,
  among: readonly FieldPath[] = fieldPaths,
): FieldPath[] {
  return activeFields(draft, among).filter((p) => normalize(draft[p]) !== normalize(base[p]));
}

const normalize = (text: string): string => text.trim().replace(/\r\n/g, '\n');

const NUMBER = /^[+-]?\d+(\.\d+)?$/;

/** Text → value; a string is a problem with the text itself (before any schema). */
function parseField(spec: FieldSpec, text: string): { value: unknown } | string {
  const t = text.trim();
  switch (spec.type) {
    case 'text':
      return { value: t };
    case 'textarea':
      return { value: text };
    case 'text-null':
      return { value: t === '' ? null : t };
    case 'choice':
      return { value: t === '' ? undefined : t };
    case 'bool':
      return { value: t === 'true' };
    case 'int':
    case 'number':
    case 'int-null':
      if (t === '') return spec.type === 'int-null' ? { value: null } : 'enter a number';
      return NUMBER.test(t) ? { value: Number(t) } : 'must be a number';
    case 'lines':
      return { value: lines(text).filter((l) => l.trim() !== '') };
    case 'int-list': {
      const parts = t === '' ? [] : t.split(/[\s,]+/).filter((p) => p !== '');
      const bad = parts.find((p) => !NUMBER.test(p));
      return bad === undefined ? { value: parts.map(Number) } : `“${bad}” is not a number`;
    }
    case 'deps':
      return { value: t === '' ? [] : t.split(/[\s,]+/).filter((p) => p !== '') };
    case 'env': {
      const env: Record<string, string> = {};
      const all = lines(text);
      for (let i = 0; i < all.length; i++) {
        const line = all[i]!;
        if (line.trim() === '') continue;
        const eq = line.indexOf('=');
        if (eq <= 0) return `line ${i + 1}: write NAME=value`;
        env[line.slice(0, eq).trim()] = line.slice(eq + 1);
      }
      return { value: env };
    }
    case 'json': {
      if (t === '') return { value: null };
      try {
        return { value: JSON.parse(t) as unknown };
      } catch (error) {
        return `not valid JSON: ${(error as Error).message}`;
      }
    }
  }
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== 'object' || child === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** Parses the given fields; what is not among them is left out (the preset fills it). */
function inputOf(
  draft: Draft,
  fields: readonly FieldPath[],
): { input: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const values: Partial<Record<FieldPath, unknown>> = {};
  for (const path of fields) {
    const parsed = parseField(fieldSpecs[path], draft[path]);
    if (typeof parsed === 'string') errors[path] = parsed;
    else values[path] = parsed.value;
  }
  const input: Record<string, unknown> = {};
  const has = (p: FieldPath): boolean => fields.includes(p) && values[p] !== undefined;
  for (const path of fields) {
    if (values[path] === undefined) continue;
    // Variants and optional parts are assembled below, as whole objects.
    if (/^(program|readiness|heartbeat|probe|restart\.backoff|restart\.crashLoop)(\.|$)/.test(path)) continue;
    setAt(input, path, values[path]);
  }
  // Program: a discriminated union, always whole.
  const programType = values['program.type'] ?? 'command';
  input.program =
    programType === 'builtin'
      ? { type: 'builtin', name: values['program.name'] ?? '' }
      : { type: 'command', command: values['program.command'] ?? '', args: values['program.args'] ?? [] };
  if (has('readiness.type')) {
    const type = values['readiness.type'];
    input.readiness =
      type === 'http'
        ? {
            type,
            url: values['readiness.url'],
            timeoutMs: values['readiness.timeoutMs'],
            intervalMs: values['readiness.intervalMs'],
          }
        : type === 'uptime'
          ? { type, uptimeMs: values['readiness.uptimeMs'] }
          : { type, timeoutMs: values['readiness.timeoutMs'] };
  }
  if (has('restart.backoff.type')) {
    const type = values['restart.backoff.type'];
    setAt(
      input,
      'restart.backoff',
      type === 'steps'
        ? { type, stepsMs: values['restart.backoff.stepsMs'] }
        : {
            type,
            initialMs: values['restart.backoff.initialMs'],
            factor: values['restart.backoff.factor'],
            capMs: values['restart.backoff.capMs'],
            jitter: values['restart.backoff.jitter'],
          },
    );
  }
  if (has('restart.crashLoop.action')) {
    setAt(input, 'restart.crashLoop', {
      maxFailures: values['restart.crashLoop.maxFailures'],
      windowMs: values['restart.crashLoop.windowMs'],
      action: values['restart.crashLoop.action'],
    });
  }
  if (fields.includes('heartbeat')) {
    input.heartbeat =
      values.heartbeat === true
        ? { intervalMs: values['heartbeat.intervalMs'], timeoutMs: values['heartbeat.timeoutMs'] }
        : null;
  }
  if (fields.includes('probe')) {
    input.probe =
      values.probe === true
        ? {
            url: values['probe.url'],
            intervalMs: values['probe.intervalMs'],
            timeoutMs: values['probe.timeoutMs'],
            failureThreshold: values['probe.failureThreshold'],
          }
        : null;
  }
  return { input, errors };
}

export interface DraftCheck {
  /** The full definition the form describes, when valid. */
  definition: ServiceDefinition | null;
  errors: FieldErrors;
  /** Problems no field of the form shows. */
  formErrors: string[];
}

/**
 * Checks the form by `resolveDefinition`, the function the API runs, and reports every problem at
 * its field. `among`: the fields the form shows (the Add dialog shows a few; the preset fills the rest).
 */
export function checkDraft(draft: Draft, among: readonly FieldPath[] = fieldPaths): DraftCheck {
  const fields = activeFields(draft, among);
  // Text that is not a value (a word in a number field, broken JSON) is left out of the input, so
  // the schema still speaks about every other field; the text's own problem stays at its field.
  const { input, errors } = inputOf(draft, fields);
  const unparsed = Object.keys(errors).length > 0;
  const result = resolveDefinition(input);
  if (result.ok) return { definition: unparsed ? null : result.definition, errors, formErrors: [] };
  const formErrors: string[] = [];
  for (const issue of issuesOf(result.error)) {
    const at = fieldOfPath(issue.path, fields);
    if (at) errors[at.field] ??= at.rest ? `${at.rest}: ${issue.message}` : issue.message;
    else formErrors.push(issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`);
  }
  return { definition: null, errors, formErrors };
}

export interface Issue {
  path: string;
  message: string;
}

/** A schema failure as "path: message" pairs, with the wording the API uses. */
export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
      return { path: [...path, issue.keys[0]!].join('.'), message: 'unknown field' };
    }
    // A refused record key (an environment name): the key's own rule says why.
    if (issue.code === 'invalid_key' && issue.issues[0]) {
      return { path: path.join('.'), message: issue.issues[0].message };
    }
    const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
    return { path: path.join('.'), message: missing ? 'is required' : issue.message };
  });
}

/**
 * The form field a definition path belongs to: the longest field that is a prefix of it, and what
 * is left of the path (a key inside the configuration, an environment name), array indices dropped.
 */
export function fieldOfPath(
  path: string,
  fields: readonly FieldPath[] = fieldPaths,
): { field: FieldPath; rest: string } | null {
  const parts = path === '' ? [] : path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const candidate = parts.slice(0, n).join('.');
    if (isFieldPath(candidate) && fields.includes(candidate)) {
      const rest = parts.slice(n).filter((p) => !/^\d+$/.test(p));
      return { field: candidate, rest: rest.join('.') };
    }
  }
  // A whole variant (program, readiness, backoff) refused: show it at its type selector.
  for (const variant of ['program', 'readiness', 'restart.backoff'] as const) {
    const type = `${variant}.type` as FieldPath;
    if ((path === variant || path.startsWith(`${variant}.`)) && fields.includes(type)) {
      return { field: type, rest: '' };
    }
  }
  return null;
}

/** An API error's field (`definition.restart.policy`) as a form field, and its message without the path. */
export function refusalAt(
  error: { field?: string; message: string },
  fields: readonly FieldPath[] = fieldPaths,
): { field: FieldPath | null; message: string } {
  const message = error.message.replace(/^definition(\.[\w.-]+)?: /, '');
  if (error.field === undefined || !error.field.startsWith('definition.')) return { field: null, message };
  const at = fieldOfPath(error.field.slice('definition.'.length), fields);
  return { field: at?.field ?? null, message };
}

/** New server values under a form being edited: untouched fields follow, edited ones stay. */
export function rebase(draft: Draft, oldBase: Draft, newBase: Draft): Draft {
  return Object.fromEntries(
    fieldPaths.map((p) => [p, normalize(draft[p]) === normalize(oldBase[p]) ? newBase[p] : draft[p]]),
  ) as Draft;
}

/** "512 MiB" for a byte count typed in a field, when it is one. */
export function describeBytes(text: string): string | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(1)} KiB`;
  return null;
}

/** The raw JSON view: text → a checked definition, or the problems, each with its path. */
export function checkJson(
  text: string,
  name: string | null,
): { definition: ServiceDefinition | null; issues: Issue[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      definition: null,
      issues: [{ path: '', message: `not valid JSON: ${(error as Error).message}` }],
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { definition: null, issues: [{ path: '', message: 'must be a JSON object' }] };
  }
  const result = resolveDefinition(value);
  if (!result.ok) return { definition: null, issues: issuesOf(result.error) };
  if (name !== null && result.definition.name !== name) {
    return {
      definition: null,
      issues: [{ path: 'name', message: 'renaming is not supported; add a new service' }],
    };
  }
  return { definition: result.definition, issues: [] };
}
