/**
 * The settings form, as pure functions: which settings it edits, text fields ↔ values, and validation
 * by the very schemas the API applies (`settingsSchema` for the whole, then `applySettingsPatch`, the
 * function `settings.update` runs), so the form refuses exactly what the server would.
 */
import type { AppInfo } from '../../../shared/api';
import type { Settings, SettingsPatch } from '../../../shared/settings';
import { settingsSchema } from '../../../shared/settings';

export const fieldPaths = [
  'retention.rawHours',
  'retention.minuteDays',
  'retention.hourDays',
  'history.sampleIntervalMs',
  'bus.backend',
  'bus.natsUrl',
  'ports.headless',
  'ports.health',
  'desktop.closeToTray',
  'desktop.startAtLogin',
] as const;
export type FieldPath = (typeof fieldPaths)[number];

export interface FieldSpec {
  path: FieldPath;
  label: string;
  /** int: a whole number; nullable: empty means "none" (null); choice: one of `options`; toggle: on or off. */
  type: 'int' | 'int-nullable' | 'text-nullable' | 'choice' | 'toggle';
  unit?: string;
  options?: readonly { value: string; label: string }[];
  hint: string;
}

export const fieldSpecs: Record<FieldPath, FieldSpec> = {
  'retention.rawHours': {
    path: 'retention.rawHours',
    label: 'Raw samples',
    type: 'int',
    unit: 'hours',
    hint: 'Every sample, full detail. 1–168 hours.',
  },
  'retention.minuteDays': {
    path: 'retention.minuteDays',
    label: 'Minute aggregates',
    type: 'int',
    unit: 'days',
    hint: 'Must cover the raw samples. 1–365 days.',
  },
  'retention.hourDays': {
    path: 'retention.hourDays',
    label: 'Hour aggregates',
    type: 'int',
    unit: 'days',
    hint: 'Must cover the minute aggregates. 1–3650 days.',
  },
  'history.sampleIntervalMs': {
    path: 'history.sampleIntervalMs',
    label: 'Sampling interval',
    type: 'int',
    unit: 'ms',
    hint: 'How often CPU, memory and metrics are recorded. 1000–60000 ms.',
  },
  'bus.backend': {
    path: 'bus.backend',
    label: 'Backend',
    type: 'choice',
    options: [
      { value: 'embedded', label: 'Embedded (no server)' },
      { value: 'nats', label: 'NATS server' },
    ],
    hint: 'A service picks up a change at its next start.',
  },
  'bus.natsUrl': {
    path: 'bus.natsUrl',
    label: 'NATS URL',
    type: 'text-nullable',
    hint: 'e.g. nats://127.0.0.1:4222; needed by the NATS backend. Empty: none.',
  },
  'ports.headless': {
    path: 'ports.headless',
    label: 'Headless port',
    type: 'int',
    hint: 'Where the headless server listens when started without --port. 1024–65535.',
  },
  'ports.health': {
    path: 'ports.health',
    label: 'Health port',
    type: 'int-nullable',
    hint: 'A separate health endpoint. Empty: none.',
  },
  'desktop.closeToTray': {
    path: 'desktop.closeToTray',
    label: 'Close to tray',
    type: 'toggle',
    hint:
      'Closing the window keeps Vigil and its services running; open it again from the tray icon or by ' +
      'starting Vigil again. Off: closing the window quits, after stopping the services (on macOS the ' +
      'app stays in the Dock).',
  },
  'desktop.startAtLogin': {
    path: 'desktop.startAtLogin',
    label: 'Start at login',
    type: 'toggle',
    hint:
      'macOS and Windows: a login item. Linux: Electron has no login items there, so Vigil writes an ' +
      'autostart entry, ~/.config/autostart/vigil.desktop, which most desktops (GNOME, KDE, Xfce) honour.',
  },
};

export const fieldSections: { title: string; fields: FieldPath[]; desktopOnly?: boolean }[] = [
  {
    title: 'History retention',
    fields: ['retention.rawHours', 'retention.minuteDays', 'retention.hourDays'],
  },
  { title: 'Sampling', fields: ['history.sampleIntervalMs'] },
  { title: 'Market-data bus', fields: ['bus.backend', 'bus.natsUrl'] },
  { title: 'Ports', fields: ['ports.headless', 'ports.health'] },
  { title: 'Desktop app', fields: ['desktop.closeToTray', 'desktop.startAtLogin'], desktopOnly: true },
];

/**
 * What a desktop-only section says about where it applies. In the browser UI of a headless Vigil the
 * settings are shown, editable and kept, but explained: they act only in the desktop app.
 */
export function desktopOnlyNote(info: Pick<AppInfo, 'mode'> | null): string {
  if (info?.mode === 'headless') {
    return (
      'These apply to the desktop app only. This page talks to a headless Vigil, which has no window, ' +
      'tray or login item: they are saved here and take effect when the desktop app runs on this data directory.'
    );
  }
  return 'These apply to the desktop app only (a headless Vigil keeps them but has no window or tray).';
}

/** The form's text, one string per field. */
export type Draft = Record<FieldPath, string>;
export type FieldErrors = Partial<Record<FieldPath, string>>;

function isFieldPath(value: string): value is FieldPath {
  return (fieldPaths as readonly string[]).includes(value);
}

function getAt(value: unknown, path: string): unknown {
  let node = value;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
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

export function draftOf(settings: Settings): Draft {
  return Object.fromEntries(
    fieldPaths.map((p) => {
      const v = getAt(settings, p);
      return [p, v === null || v === undefined ? '' : String(v)];
    }),
  ) as Draft;
}

/** The fields whose text differs from `base`. */
export function changedFields(draft: Draft, base: Settings): FieldPath[] {
  const original = draftOf(base);
  return fieldPaths.filter((p) => draft[p].trim() !== original[p]);
}

/** Text → value; a string is a problem with the text itself (before any schema). */
function parseField(spec: FieldSpec, text: string): { value: unknown } | string {
  const t = text.trim();
  switch (spec.type) {
    case 'choice':
      return { value: t };
    case 'toggle':
      return t === 'true' || t === 'false' ? { value: t === 'true' } : 'must be on or off';
    case 'text-nullable':
      return { value: t === '' ? null : t };
    case 'int':
    case 'int-nullable': {
      if (t === '') return spec.type === 'int-nullable' ? { value: null } : 'enter a number';
      if (!/^[+-]?\d+(\.\d+)?$/.test(t)) return 'must be a number';
      return { value: Number(t) };
    }
  }
}

export interface DraftCheck {
  /** The settings the form describes, when valid. */
  settings: Settings | null;
  errors: FieldErrors;
  /** A problem no field of the form shows. */
  formError: string | null;
}

/** Checks the whole form against `settingsSchema`, reporting every problem at its field. */
export function checkDraft(draft: Draft, base: Settings): DraftCheck {
  const errors: FieldErrors = {};
  const candidate = structuredClone(base) as unknown as Record<string, unknown>;
  for (const path of fieldPaths) {
    const parsed = parseField(fieldSpecs[path], draft[path]);
    if (typeof parsed === 'string') errors[path] = parsed;
    else setAt(candidate, path, parsed.value);
  }
  if (Object.keys(errors).length > 0) return { settings: null, errors, formError: null };
  const result = settingsSchema.safeParse(candidate);
  if (result.success) return { settings: result.data, errors, formError: null };
  const changed = new Set(changedFields(draft, base));
  let formError: string | null = null;
  for (const issue of result.error.issues) {
    const path = blame(issue, changed);
    if (isFieldPath(path)) errors[path] ??= issue.message;
    else formError ??= `${path}: ${issue.message}`;
  }
  return { settings: null, errors, formError };
}

/**
 * A rule between two fields is reported on one of them (`params.alsoConcerns` names the other): show
 * it on the one the person changed, as the server does for a patch.
 */
function blame(
  issue: { path: readonly PropertyKey[]; code: string; params?: Record<string, unknown> },
  changed: ReadonlySet<string>,
): string {
  const path = issue.path.map(String).join('.');
  const other: unknown = issue.code === 'custom' ? issue.params?.alsoConcerns : undefined;
  if (!Array.isArray(other)) return path;
  const otherPath = [...issue.path.slice(0, -1).map(String), ...other.map(String)].join('.');
  return !changed.has(path) && changed.has(otherPath) ? otherPath : path;
}

/** Only what changed, as `settings.update` takes it. */
export function patchOf(next: Settings, base: Settings): SettingsPatch {
  const patch: Record<string, unknown> = {};
  for (const path of fieldPaths) {
    const value = getAt(next, path);
    if (JSON.stringify(value) !== JSON.stringify(getAt(base, path))) setAt(patch, path, value);
  }
  return patch as SettingsPatch;
}

/** The form field an API error names (`settings.retention.rawHours`, `patch.ports.headless`), if any. */
export function fieldOfError(field: string | undefined): FieldPath | null {
  if (field === undefined) return null;
  const path = field.replace(/^(settings|patch)\./, '');
  return isFieldPath(path) ? path : null;
}

/** The message without the path the API puts in front of it ("settings.x.y: must be ..."). */
export function messageAtField(message: string): string {
  return message.replace(/^(settings|patch)\.[\w.]+: /, '');
}

/** New server values under a form being edited: untouched fields follow, edited ones stay. */
export function rebase(draft: Draft, oldBase: Settings, newBase: Settings): Draft {
  const before = draftOf(oldBase);
  const after = draftOf(newBase);
  return Object.fromEntries(
    fieldPaths.map((p) => [p, draft[p] === before[p] ? after[p] : draft[p]]),
  ) as Draft;
}
