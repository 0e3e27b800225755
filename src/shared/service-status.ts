/**
 * What the services' states add up to, decided in one place for the Dashboard and the tray: the
 * overall state in words, whether trading is on, and what a trader service is configured to trade
 * (read from its `config`).
 */
import type { ServiceInfo } from './services';

export type OverallLevel = 'healthy' | 'degraded' | 'failing' | 'empty';

export interface OverallStatus {
  level: OverallLevel;
  label: string;
  /** Why, in a few words per service ("e2e-crasher: backoff"); empty when all is well. */
  problems: { name: string; what: string }[];
  /** How many services fail and how many are degraded (problems lists only the worse kind). */
  counts: { failing: number; degraded: number };
}

export const overallLabels: Record<OverallLevel, string> = {
  healthy: 'All healthy',
  degraded: 'Degraded',
  failing: 'Failing',
  empty: 'No services',
};

/**
 * Failing: a service gave up (fatal), waits to restart (backoff), is in a crash loop, or is starting
 * again after recent failures. Degraded: a running service is not healthy (degraded or
 * unresponsive), or its memory is over its soft limit. A stopped service is a person's choice, not a
 * problem (even one stopped in a crash loop).
 */
export function overallStatus(
  services: readonly ServiceInfo[],
  /** Services over their soft memory limit now (from the live metrics: ServiceInfo's figure is older). */
  overSoftLimit: readonly string[] = [],
): OverallStatus {
  if (services.length === 0) {
    return { level: 'empty', label: overallLabels.empty, problems: [], counts: { failing: 0, degraded: 0 } };
  }
  const failing: OverallStatus['problems'] = [];
  const degraded: OverallStatus['problems'] = [];
  for (const s of services) {
    if (s.state === 'fatal') failing.push({ name: s.name, what: 'fatal (gave up)' });
    else if (s.state === 'backoff') {
      failing.push({
        name: s.name,
        what: s.crashLoop ? 'crash loop, waiting to restart' : 'backoff (waiting to restart)',
      });
    } else if (s.crashLoop && s.state !== 'stopped') {
      failing.push({ name: s.name, what: `crash loop (${s.state})` });
    } else if (s.state === 'starting' && s.failures > 0) {
      // Restarting after failures: not healthy until it has shown it stays up.
      failing.push({
        name: s.name,
        what: `restarting after ${s.failures} failure${s.failures === 1 ? '' : 's'}`,
      });
    } else if (s.health === 'unresponsive' || s.health === 'degraded') {
      degraded.push({ name: s.name, what: s.healthReason ? `${s.health}: ${s.healthReason}` : s.health });
    } else if (isUpState(s) && overSoftLimit.includes(s.name)) {
      degraded.push({ name: s.name, what: 'memory over soft limit' });
    }
  }
  const counts = { failing: failing.length, degraded: degraded.length };
  if (failing.length > 0)
    return { level: 'failing', label: overallLabels.failing, problems: failing, counts };
  if (degraded.length > 0) {
    return { level: 'degraded', label: overallLabels.degraded, problems: degraded, counts };
  }
  return { level: 'healthy', label: overallLabels.healthy, problems: [], counts };
}

function isUpState(s: ServiceInfo): boolean {
  return s.state === 'running' || s.state === 'paused' || s.state === 'reloading';
}

/** A trader counts as trading from the moment it is started until it has stopped. */
export function isTrading(s: ServiceInfo): boolean {
  return (
    s.kind === 'trader' &&
    (s.state === 'running' || s.state === 'starting' || s.state === 'paused' || s.state === 'reloading')
  );
}

export type TraderMode = 'paper' | 'live' | 'unknown';

export interface TraderModeInfo {
  mode: TraderMode;
  /** In words, as the confirmation names it: "paper", "live", "paper (default)", "unknown". */
  label: string;
  /** Where it came from, to say so in the dialog. */
  source: 'config' | 'default' | 'none';
}

/**
 * `config.mode` when the service sets it. Otherwise a built-in trader runs on paper by default; for a
 * custom command Vigil cannot know, and says so.
 */
export function traderMode(s: ServiceInfo): TraderModeInfo {
  const raw = s.definition.config?.mode;
  if (typeof raw === 'string') {
    const mode = raw.trim().toLowerCase();
    if (mode === 'paper' || mode === 'live') return { mode, label: mode, source: 'config' };
    return { mode: 'unknown', label: `unknown ("${raw}")`, source: 'config' };
  }
  if (s.definition.program.type === 'builtin') {
    return { mode: 'paper', label: 'paper (default)', source: 'default' };
  }
  return { mode: 'unknown', label: 'unknown', source: 'none' };
}

/**
 * The mode a person confirms to start this trader (`confirm: { mode }`): its own, and "live" when
 * Vigil cannot tell, since a program of unknown mode may trade real money.
 */
export function traderConfirmMode(s: ServiceInfo): 'paper' | 'live' {
  const { mode } = traderMode(s);
  return mode === 'paper' ? 'paper' : 'live';
}

/** `config.symbols` as a list of names, or null when the service does not say. */
export function traderSymbols(s: ServiceInfo): string[] | null {
  const raw = s.definition.config?.symbols;
  if (typeof raw === 'string' && raw.trim() !== '') return [raw.trim()];
  if (!Array.isArray(raw)) return null;
  const names = raw.filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  return names.length > 0 ? names : null;
}

/** Memory against the limits: under them, over the soft one (a warning), at the hard one (a restart). */
export function memoryBand(
  rssBytes: number | null,
  softBytes: number | null,
  hardBytes: number | null,
): 'ok' | 'soft' | 'hard' | 'none' {
  if (rssBytes === null) return 'none';
  if (hardBytes !== null && rssBytes >= hardBytes) return 'hard';
  if (softBytes !== null && rssBytes >= softBytes) return 'soft';
  return 'ok';
}
