/**
 * Service requests (start, stop, restart, pause, resume, acknowledge) in flight and their last error, per service, so the table row and the
 * detail panel show the same busy state and the same typed error.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { TraderConfirm } from '../../../shared/trader-api';
import { useServicesStore } from './services';

export type ServiceAction = 'start' | 'stop' | 'restart' | 'pause' | 'resume' | 'acknowledge';

interface ActionsStore {
  busy: Readonly<Record<string, ServiceAction | undefined>>;
  errors: Readonly<Record<string, { action: ServiceAction; error: ApiErrorShape } | undefined>>;
}

export const useActionsStore = create<ActionsStore>()(() => ({ busy: {}, errors: {} }));

/** `confirm`: what a person confirmed to start or restart a trader (its mode); the core refuses without it. */
export async function runServiceAction(
  api: VigilApi,
  name: string,
  action: ServiceAction,
  confirm?: TraderConfirm,
): Promise<void> {
  if (useActionsStore.getState().busy[name]) return;
  useActionsStore.setState((s) => ({
    busy: { ...s.busy, [name]: action },
    errors: { ...s.errors, [name]: undefined },
  }));
  const res =
    confirm && (action === 'start' || action === 'restart')
      ? await api.services[action]({ name, confirm })
      : await api.services[action]({ name });
  if (res.ok) useServicesStore.getState().upsert(res.result);
  useActionsStore.setState((s) => ({
    busy: { ...s.busy, [name]: undefined },
    errors: { ...s.errors, [name]: res.ok ? undefined : { action, error: res.error } },
  }));
}

export function dismissActionError(name: string): void {
  useActionsStore.setState((s) => ({ errors: { ...s.errors, [name]: undefined } }));
}
