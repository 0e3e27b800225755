/** A ServiceInfo as services.list reports it, with a real (resolved) definition: for state-to-view tests. */
import { resolveDefinition } from '../../src/shared/service-definition';
import type { ServiceInfo, ServiceKind } from '../../src/shared/services';

export interface ServiceInfoSpec extends Partial<Omit<ServiceInfo, 'definition'>> {
  name: string;
  /** config of the definition (a trader's mode and symbols). */
  config?: Record<string, unknown>;
  program?: ServiceInfo['program'];
}

/**
 * Unless `program` says: a trader runs the built-in trader, or a program of its own when its config is
 * one the built-in refuses (live mode, a mode it does not know); anything else runs the built-in
 * self-check (a protocol child, as the built-ins are).
 */
function defaultProgram(
  name: string,
  kind: ServiceKind,
  config?: Record<string, unknown>,
): ServiceInfo['program'] {
  if (kind !== 'trader') return { type: 'builtin', name: 'selfcheck' };
  const builtin = { type: 'builtin' as const, name: 'trader' };
  return resolveDefinition({ name, kind, program: builtin, ...(config && { config }) }).ok
    ? builtin
    : { type: 'command', command: 'my-trader', args: [] };
}

export function serviceInfo(spec: ServiceInfoSpec): ServiceInfo {
  const kind: ServiceKind = spec.kind ?? 'custom';
  const { config, program = defaultProgram(spec.name, kind, spec.config), ...info } = spec;
  const resolved = resolveDefinition({ name: spec.name, kind, program, ...(config && { config }) });
  if (!resolved.ok) throw new Error(`bad test service ${spec.name}: ${resolved.error.message}`);
  const definition = resolved.definition;
  return {
    kind,
    description: '',
    program: definition.program,
    autostart: definition.autostart,
    definition,
    pendingChanges: false,
    state: 'running',
    health: 'healthy',
    healthReason: null,
    pid: 1234,
    startedAt: 0,
    readyAt: 0,
    restarts: 0,
    failures: 0,
    crashLoop: false,
    nextRestartAt: null,
    lastExit: null,
    recentExits: [],
    reason: null,
    lastHeartbeatAt: null,
    heartbeat: null,
    metrics: null,
    bus: null,
    cpuPercent: null,
    rssBytes: null,
    detail: null,
    ...info,
  };
}

/** A trader: `mode` and `symbols` go into its config (omit them to leave them unset). */
export function trader(
  name: string,
  state: ServiceInfo['state'],
  config: { mode?: string; symbols?: string[] | string } = {},
  extra: Partial<ServiceInfoSpec> = {},
): ServiceInfo {
  return serviceInfo({
    name,
    kind: 'trader',
    state,
    health: state === 'running' ? 'healthy' : null,
    ...(Object.keys(config).length > 0 && { config }),
    ...extra,
  });
}
