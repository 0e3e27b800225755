/**
 * Service definitions: what a person (or the defaults) configures, validated with clear errors. The
 * input names only what differs from the role preset of its kind; `resolveDefinition` fills the rest
 * and checks the rules that span fields (a trader never autostarts, readiness needs a protocol, ...).
 */
import { z } from 'zod';
import { parseCollectorConfigs } from './collector-config';
import { optimizerConfigSchema } from './optimizer-api';
import { parseTraderConfig } from '../services/trader/trader-config';
import { serviceKinds, serviceNameSchema, type ServiceKind } from './services';

const HOUR = 3_600_000;
const ms = (max = 24 * HOUR) =>
  z
    .number()
    .int('must be a whole number of milliseconds')
    .min(0, 'must not be negative')
    .max(max, `must be at most ${max} ms`);
const exitCode = z.number().int().min(0, 'exit codes are 0–255').max(255, 'exit codes are 0–255');
const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');

export const stopSignals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export const programSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('builtin'), name: serviceNameSchema }).strict(),
  z
    .object({
      type: z.literal('command'),
      command: z.string().min(1, 'must not be empty'),
      args: z.array(z.string()).max(256).default([]),
    })
    .strict(),
]);

export const backoffSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('exponential'),
      initialMs: ms(),
      factor: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10'),
      capMs: ms(),
      jitter: z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1'),
    })
    .strict(),
  z
    .object({
      type: z.literal('steps'),
      /** Delay before the 1st, 2nd, ... restart; the last step repeats. */
      stepsMs: z.array(ms()).min(1, 'name at least one step').max(64),
    })
    .strict(),
]);

export const crashLoopSchema = z
  .object({
    maxFailures: z.number().int().min(1).max(1000),
    windowMs: ms(7 * 24 * HOUR),
    /** alert: flag it, notify, keep retrying at the cap. fatal: give up until a person acknowledges. */
    action: z.enum(['alert', 'fatal']),
  })
  .strict();

export const restartSchema = z
  .object({
    policy: z.enum(['always', 'on-failure', 'never']),
    backoff: backoffSchema,
    /** Up and healthy this long: the restart counter goes back to zero. */
    resetAfterMs: ms(),
    /** An exit this soon after ready still counts as a failed start. */
    minUptimeMs: ms(),
    crashLoop: crashLoopSchema,
    successExitCodes: z.array(exitCode).max(256),
    noRestartExitCodes: z.array(exitCode).max(256),
  })
  .strict();

export const readinessSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), timeoutMs: ms() }).strict(),
  z.object({ type: z.literal('http'), url: httpUrl, timeoutMs: ms(), intervalMs: ms() }).strict(),
  z.object({ type: z.literal('uptime'), uptimeMs: ms() }).strict(),
]);

export const heartbeatSchema = z.object({ intervalMs: ms(), timeoutMs: ms() }).strict();

export const probeSchema = z
  .object({
    url: httpUrl,
    intervalMs: ms(),
    timeoutMs: ms(),
    failureThreshold: z.number().int().min(1).max(100),
  })
  .strict();

export const memorySchema = z
  .object({
    softBytes: z.number().int().positive().nullable(),
    hardBytes: z.number().int().positive().nullable(),
    /** Consecutive samples over the hard limit before a graceful restart; 1.25 × hard kills at once. */
    hardSamples: z.number().int().min(1).max(100),
  })
  .strict();

export const stopSchema = z.object({ signal: z.enum(stopSignals), timeoutMs: ms(10 * 60_000) }).strict();

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

const programConfigSchema = z
  .record(z.string(), z.unknown())
  .refine((c) => JSON.stringify(c).length <= 64 * 1024, 'must be at most 64 KiB as JSON');

export const serviceDefinitionSchema = z
  .object({
    name: serviceNameSchema,
    kind: z.enum(serviceKinds),
    description: z.string().max(500),
    program: programSchema,
    /** vigil: speaks the child protocol over its IPC channel (built-ins always do). none: a plain command. */
    protocol: z.enum(['vigil', 'none']),
    env: z.record(z.string().regex(envName, 'environment names are letters, digits and _'), z.string()),
    cwd: z.string().min(1).nullable(),
    autostart: z.boolean(),
    dependsOn: z.array(serviceNameSchema).max(64),
    restart: restartSchema,
    readiness: readinessSchema,
    heartbeat: heartbeatSchema.nullable(),
    probe: probeSchema.nullable(),
    memory: memorySchema,
    stop: stopSchema,
    /**
     * The program's own configuration (a collector's symbols and endpoints...), given to it as JSON in
     * VIGIL_CONFIG. Built-in programs with a schema have it checked here, so a bad value is refused
     * when it is saved, not when the program starts.
     */
    config: programConfigSchema.nullable().default(null),
  })
  .strict();

export type ServiceDefinition = z.infer<typeof serviceDefinitionSchema>;
export type BackoffPolicy = z.infer<typeof backoffSchema>;
export type RestartPolicy = z.infer<typeof restartSchema>;
export type CrashLoopRule = z.infer<typeof crashLoopSchema>;

/** What a person writes: name, kind and program, plus whatever differs from the role's preset. */
export const serviceDefinitionInputSchema = z
  .object({
    name: serviceNameSchema,
    kind: z.enum(serviceKinds),
    program: programSchema,
    description: z.string().max(500).optional(),
    protocol: z.enum(['vigil', 'none']).optional(),
    env: serviceDefinitionSchema.shape.env.optional(),
    cwd: z.string().min(1).nullable().optional(),
    autostart: z.boolean().optional(),
    dependsOn: z.array(serviceNameSchema).max(64).optional(),
    restart: restartSchema.partial().optional(),
    readiness: readinessSchema.optional(),
    heartbeat: heartbeatSchema.nullable().optional(),
    probe: probeSchema.nullable().optional(),
    memory: memorySchema.partial().optional(),
    stop: stopSchema.partial().optional(),
    config: programConfigSchema.nullable().optional(),
  })
  .strict();

export type ServiceDefinitionInput = z.input<typeof serviceDefinitionInputSchema>;

/** The seed's collector plan: restart at once, then after 5 s, 5 s, then every 30 s. */
export const COLLECTOR_STEPS_MS = [0, 5_000, 5_000, 30_000];

/** What differs between the roles (reference/supervision.md c2–c7). */
const roles: Record<
  ServiceKind,
  {
    autostart: boolean;
    policy: RestartPolicy['policy'];
    backoff: BackoffPolicy;
    crashLoop: CrashLoopRule;
    stopMs: number;
  }
> = {
  // Collectors never give up: an exchange outage must not leave a gap nobody restarts.
  collector: {
    autostart: true,
    policy: 'always',
    backoff: { type: 'steps', stepsMs: COLLECTOR_STEPS_MS },
    crashLoop: { maxFailures: 5, windowMs: 300_000, action: 'alert' },
    stopMs: 10_000,
  },
  optimizer: {
    autostart: true,
    policy: 'on-failure',
    backoff: exponentialBackoff(60_000),
    crashLoop: { maxFailures: 5, windowMs: 300_000, action: 'alert' },
    stopMs: 15_000,
  },
  // A trader restarting in a loop risks repeated order actions: it escalates to a person, and it
  // has time to cancel or flatten when stopped.
  trader: {
    autostart: false,
    policy: 'on-failure',
    backoff: exponentialBackoff(60_000),
    crashLoop: { maxFailures: 3, windowMs: 600_000, action: 'fatal' },
    stopMs: 30_000,
  },
  custom: {
    autostart: false,
    policy: 'on-failure',
    backoff: exponentialBackoff(60_000),
    crashLoop: { maxFailures: 5, windowMs: 300_000, action: 'alert' },
    stopMs: 10_000,
  },
};

function exponentialBackoff(capMs: number): BackoffPolicy {
  return { type: 'exponential', initialMs: 1_000, factor: 2, capMs, jitter: 0.2 };
}

/** The full preset of a role: everything but name, kind, program and protocol. */
/** Built-in programs whose configuration is checked when a definition is saved. */
const builtinConfigs: Record<
  string,
  (config: unknown) => { ok: true } | { ok: false; path: string[]; error: string }
> = {
  // Without one the collector refuses to start (exit 78, "needs config.venue"), which the UI shows.
  collector: (config) => {
    if (config === null) return { ok: true };
    const r = parseCollectorConfigs(config);
    return r.ok ? { ok: true } : { ok: false, path: r.path, error: r.error };
  },
  optimizer: (config) => {
    if (config === null) return { ok: true };
    const r = optimizerConfigSchema.safeParse(config);
    if (r.success) return { ok: true };
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
    return { ok: false, path, error: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message };
  },
  // The shape and the strategy (a known id, parameters it accepts): a trader that would not start is
  // refused here. No configuration means every default.
  trader: (config) => {
    const r = parseTraderConfig(config);
    return r.ok ? { ok: true } : r;
  },
};

export function rolePreset(
  kind: ServiceKind,
): Omit<ServiceDefinition, 'name' | 'kind' | 'program' | 'protocol'> {
  const role = roles[kind];
  return {
    description: '',
    env: {},
    cwd: null,
    autostart: role.autostart,
    dependsOn: [],
    restart: {
      policy: role.policy,
      backoff: role.backoff,
      resetAfterMs: 60_000,
      minUptimeMs: 5_000,
      crashLoop: role.crashLoop,
      successExitCodes: [0],
      noRestartExitCodes: [],
    },
    readiness: { type: 'message', timeoutMs: 30_000 },
    heartbeat: { intervalMs: 1_000, timeoutMs: 5_000 },
    probe: null,
    memory: { softBytes: null, hardBytes: null, hardSamples: 3 },
    stop: { signal: 'SIGTERM', timeoutMs: role.stopMs },
    config: null,
  };
}

export type ResolveResult = { ok: true; definition: ServiceDefinition } | { ok: false; error: z.ZodError };

/** Preset + input → a full definition, or the first problem with the field it concerns. */
export function resolveDefinition(input: unknown): ResolveResult {
  const parsed = serviceDefinitionInputSchema.safeParse(input);
  if (!parsed.success) return { ok: false, error: parsed.error };
  const i = parsed.data;
  const preset = rolePreset(i.kind);
  const protocol = i.protocol ?? (i.program.type === 'builtin' ? 'vigil' : 'none');
  const candidate: ServiceDefinition = {
    ...preset,
    name: i.name,
    kind: i.kind,
    program: i.program,
    protocol,
    description: i.description ?? preset.description,
    env: i.env ?? preset.env,
    cwd: i.cwd ?? preset.cwd,
    autostart: i.autostart ?? preset.autostart,
    dependsOn: i.dependsOn ?? preset.dependsOn,
    restart: { ...preset.restart, ...i.restart },
    // A plain command cannot say "ready": it is ready once it has stayed up for a while.
    readiness: i.readiness ?? (protocol === 'vigil' ? preset.readiness : { type: 'uptime', uptimeMs: 1_000 }),
    heartbeat: i.heartbeat !== undefined ? i.heartbeat : protocol === 'vigil' ? preset.heartbeat : null,
    probe: i.probe ?? preset.probe,
    memory: { ...preset.memory, ...i.memory },
    stop: { ...preset.stop, ...i.stop },
    config: i.config ?? null,
  };
  const checked = serviceDefinitionSchema.superRefine((d, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (d.kind === 'trader' && d.autostart)
      issue(['autostart'], 'a trader never autostarts: a person starts it');
    if (d.program.type === 'builtin' && d.protocol !== 'vigil') {
      issue(['protocol'], 'built-in programs always speak the vigil protocol');
    }
    if (d.protocol === 'none' && d.readiness.type === 'message') {
      issue(['readiness', 'type'], 'a program without the vigil protocol cannot send a ready message');
    }
    if (d.protocol === 'none' && d.heartbeat) issue(['heartbeat'], 'heartbeats need the vigil protocol');
    if (d.heartbeat && d.heartbeat.timeoutMs <= d.heartbeat.intervalMs) {
      issue(['heartbeat', 'timeoutMs'], 'must be longer than the heartbeat interval');
    }
    if (d.dependsOn.includes(d.name)) issue(['dependsOn'], 'a service cannot depend on itself');
    const { softBytes, hardBytes } = d.memory;
    if (softBytes !== null && hardBytes !== null && softBytes >= hardBytes) {
      issue(['memory', 'softBytes'], 'must be below the hard limit');
    }
    if (d.restart.backoff.type === 'exponential' && d.restart.backoff.capMs < d.restart.backoff.initialMs) {
      issue(['restart', 'backoff', 'capMs'], 'must not be below initialMs');
    }
    // The trader program's safety rules (never autostarts, a person confirms its start) hang on the kind.
    if (d.program.type === 'builtin' && d.program.name === 'trader' && d.kind !== 'trader') {
      issue(['kind'], 'the trader program runs as kind trader');
    }
    const validate = d.program.type === 'builtin' ? builtinConfigs[d.program.name] : undefined;
    if (validate) {
      const r = validate(d.config);
      if (!r.ok) issue(['config', ...r.path], r.error);
    }
  });
  const result = checked.safeParse(candidate);
  return result.success ? { ok: true, definition: result.data } : { ok: false, error: result.error };
}
