/**
 * App settings: one strict schema in which every field has a default (so `settingsSchema.parse({})`
 * is the fresh-install settings), and a deep-partial patch for updates that is checked field by field
 * and then as a whole, so rules that span fields (retention tiers) hold after every change.
 */
import { z } from 'zod';
import type { ApiErrorShape } from './errors';
import { zodErrorToApiError } from './validation';

export const themes = ['dark', 'light', 'system'] as const;
export type Theme = (typeof themes)[number];

const whole = (unit: string, min: number, max: number) =>
  z
    .number()
    .int(`must be a whole number of ${unit}`)
    .min(min, `must be at least ${min} ${unit}`)
    .max(max, `must be at most ${max} ${unit}`);

// The leaf rules, shared by the full schema and the patch so both enforce the same bounds.
const rawHours = whole('hours', 1, 168);
const minuteDays = whole('days', 1, 365);
const hourDays = whole('days', 1, 3650);
const theme = z.enum(themes);
// Below 1024 needs root on Linux and macOS; Vigil never runs privileged.
const port = z
  .number()
  .int('must be a whole port number')
  .min(1024, 'must be a port from 1024 to 65535')
  .max(65535, 'must be a port from 1024 to 65535');
const sampleIntervalMs = whole('ms', 1000, 60_000);
const onOff = z.boolean({ error: 'must be true or false' });

type Path = readonly string[];
type Issue = z.ZodError['issues'][number];

/**
 * A rule between two fields. The issue sits on `path`; `params.alsoConcerns` names the other field so
 * a patch that changed only that one is told about the field it changed.
 */
function pairIssue(ctx: z.RefinementCtx, path: Path, alsoConcerns: Path, message: string): void {
  ctx.addIssue({ code: 'custom', path: [...path], message, params: { alsoConcerns: [...alsoConcerns] } });
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

// Minute aggregates are built from raw samples and hour aggregates from minutes: a coarser tier that
// expires first would leave a span with raw detail but no overview (and vice versa for hours).
const retentionSchema = z
  .object({
    rawHours: rawHours.default(24),
    minuteDays: minuteDays.default(30),
    hourDays: hourDays.default(365),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.minuteDays * 24 < r.rawHours) {
      pairIssue(
        ctx,
        ['minuteDays'],
        ['rawHours'],
        `minute retention (${plural(r.minuteDays, 'day')}) must cover raw retention (${plural(r.rawHours, 'hour')}): ` +
          `raise retention.minuteDays to at least ${Math.ceil(r.rawHours / 24)} or lower retention.rawHours to at most ${r.minuteDays * 24}`,
      );
    }
    if (r.hourDays < r.minuteDays) {
      pairIssue(
        ctx,
        ['hourDays'],
        ['minuteDays'],
        `hour retention (${plural(r.hourDays, 'day')}) must cover minute retention (${plural(r.minuteDays, 'day')}): ` +
          `raise retention.hourDays to at least ${r.minuteDays} or lower retention.minuteDays to at most ${r.hourDays}`,
      );
    }
  });

const portsSchema = z
  .object({
    headless: port.default(7420),
    /** null: no separate health endpoint. */
    health: port.nullable().default(null),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.health !== null && p.health === p.headless) {
      pairIssue(
        ctx,
        ['health'],
        ['headless'],
        `the health port must differ from the headless port (both ${p.headless})`,
      );
    }
  });

/**
 * The market-data bus children talk over: embedded (no server to install) or a NATS server. A change
 * reaches a child at its next start.
 */
const busBackend = z.enum(['embedded', 'nats']);
const natsUrl = z
  .string()
  .regex(/^(nats|tls):\/\/[^\s]+$/, 'must be a nats:// or tls:// URL, e.g. nats://127.0.0.1:4222');
const busSchema = z
  .object({ backend: busBackend.default('embedded'), natsUrl: natsUrl.nullable().default(null) })
  .strict()
  .refine((b) => b.backend !== 'nats' || b.natsUrl !== null, {
    path: ['natsUrl'],
    message: 'the nats backend needs natsUrl',
  });

/**
 * The desktop app's own behaviour; a headless Vigil keeps them (same data directory) but has no window
 * to close and does not start at login.
 */
const desktopSchema = z
  .object({
    /** Closing the window hides it and Vigil keeps supervising; off: closing the window quits. */
    closeToTray: onOff.default(true),
    /** A login item (macOS, Windows) or an XDG autostart entry (Linux). */
    startAtLogin: onOff.default(false),
  })
  .strict();

export const settingsSchema = z
  .object({
    // prefault: a missing group is parsed from {}, so its field defaults (and rules) apply.
    retention: retentionSchema.prefault({}),
    theme: theme.default('dark'),
    ports: portsSchema.prefault({}),
    history: z
      .object({ sampleIntervalMs: sampleIntervalMs.default(2000) })
      .strict()
      .prefault({}),
    bus: busSchema.prefault({}),
    desktop: desktopSchema.prefault({}),
  })
  .strict();

export type Settings = z.output<typeof settingsSchema>;

/** An update: any subset of fields, at any depth; unknown fields are refused, nothing gets a default. */
export const settingsPatchSchema = z
  .object({
    retention: z
      .object({
        rawHours: rawHours.optional(),
        minuteDays: minuteDays.optional(),
        hourDays: hourDays.optional(),
      })
      .strict()
      .optional(),
    theme: theme.optional(),
    ports: z.object({ headless: port.optional(), health: port.nullable().optional() }).strict().optional(),
    history: z.object({ sampleIntervalMs: sampleIntervalMs.optional() }).strict().optional(),
    bus: z
      .object({ backend: busBackend.optional(), natsUrl: natsUrl.nullable().optional() })
      .strict()
      .optional(),
    desktop: z.object({ closeToTray: onOff.optional(), startAtLogin: onOff.optional() }).strict().optional(),
  })
  .strict();

export type SettingsPatch = z.input<typeof settingsPatchSchema>;

export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}

export type ApplySettingsResult = { ok: true; settings: Settings } | { ok: false; error: ApiErrorShape };

/** current + patch → the new settings, or the first problem, its field named `settings.<path>`. */
export function applySettingsPatch(current: Settings, patch: unknown): ApplySettingsResult {
  const parsedPatch = settingsPatchSchema.safeParse(patch);
  if (!parsedPatch.success) return { ok: false, error: settingsError(parsedPatch.error.issues[0]) };
  const merged = settingsSchema.safeParse(mergeDefined(current, parsedPatch.data));
  if (merged.success) return { ok: true, settings: merged.data };
  return { ok: false, error: settingsError(blameChangedField(merged.error.issues[0], parsedPatch.data)) };
}

/** Formats one issue as the API's error, with the field under `settings.`. */
function settingsError(issue: Issue | undefined): ApiErrorShape {
  const e = zodErrorToApiError(new z.ZodError(issue ? [issue] : []), 'settings');
  return e.field === undefined
    ? { code: e.code, message: e.message, field: 'settings' }
    : { code: e.code, message: `settings.${e.message}`, field: `settings.${e.field}` };
}

/** A two-field rule broken by a patch points at the field the patch touched, not its partner. */
function blameChangedField(issue: Issue | undefined, patch: SettingsPatch): Issue | undefined {
  if (issue?.code !== 'custom') return issue;
  const other: unknown = issue.params?.alsoConcerns;
  if (!Array.isArray(other)) return issue;
  const parent = issue.path.slice(0, -1);
  const otherPath = [...parent, ...other.map(String)];
  if (hasPath(patch, issue.path) || !hasPath(patch, otherPath)) return issue;
  return { ...issue, path: otherPath };
}

function hasPath(value: unknown, path: readonly PropertyKey[]): boolean {
  let node = value;
  for (const key of path) {
    if (!isPlainObject(node) || node[key as string] === undefined) return false;
    node = node[key as string];
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; `undefined` in the patch means "unchanged", `null` is a value. */
function mergeDefined(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) out[key] = mergeDefined(base[key], value);
  }
  return out;
}
