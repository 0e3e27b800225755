/**
 * A person's trader commands, run through the trader store (one at a time per trader, its last error
 * kept for the view). Replies are taken in only when they have the expected shape, so a snapshot or
 * a service from one command never corrupts what the views show.
 */
import type { VigilApi } from '../../../../shared/client';
import type { ApiErrorShape } from '../../../../shared/errors';
import type { ServiceInfo } from '../../../../shared/services';
import { traderConfirmMode } from '../../../../shared/service-status';
import type { RiskLimits, TraderSnapshot } from '../../../../shared/trader-api';
import { runServiceAction } from '../../stores/actions';
import { isServiceInfo, useServicesStore } from '../../stores/services';
import { applySnapshot, isSnapshot, loadTraderState, runTraderAction } from '../../stores/trader';

/** Starts a trader with the person's confirmation of the mode the dialog named (live when unknown). */
export function startTrader(api: VigilApi, service: ServiceInfo): Promise<void> {
  return runServiceAction(api, service.name, 'start', { mode: traderConfirmMode(service) });
}

function takeSnapshot(name: string, result: unknown): void {
  if (isSnapshot(result)) applySnapshot(name, result);
}

export async function setOpening(api: VigilApi, name: string, allowed: boolean): Promise<void> {
  const r = await runTraderAction(name, allowed ? 'resume' : 'opening', () =>
    api.trader.opening({ name, allowed }),
  );
  if (r?.ok) takeSnapshot(name, r.result);
}

/** Stops the program: first flattening every position (`flatten`), or keeping them. */
export async function stopTrader(api: VigilApi, name: string, flatten: boolean): Promise<void> {
  const r = await runTraderAction(name, flatten ? 'flatten' : 'stop', () =>
    api.trader.stop({ name, flatten }),
  );
  if (!r?.ok) return;
  if (isServiceInfo(r.result)) useServicesStore.getState().upsert(r.result);
  // Stopped: the snapshot now comes from its database (positions kept, or none after flattening).
  await loadTraderState(api, name);
}

export async function killTrader(api: VigilApi, name: string): Promise<void> {
  const r = await runTraderAction(name, 'kill', () => api.trader.kill({ name, confirm: true }));
  if (r?.ok) takeSnapshot(name, r.result);
}

/** Saves limits; the reply is the refusal (to show at its field) or null. */
export async function saveLimits(
  api: VigilApi,
  name: string,
  limits: RiskLimits,
): Promise<{ ok: true; snapshot: TraderSnapshot | null } | { ok: false; error: ApiErrorShape } | null> {
  const r = await runTraderAction(name, 'limits', () => api.trader.limits({ name, limits }));
  if (r === null) return null;
  if (!r.ok) return { ok: false, error: r.error };
  if (isSnapshot(r.result)) {
    applySnapshot(name, r.result);
    return { ok: true, snapshot: r.result };
  }
  await loadTraderState(api, name);
  return { ok: true, snapshot: null };
}
