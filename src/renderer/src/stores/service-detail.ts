/**
 * What the service detail shows (its tab, kept while moving from service to service) and the outcome
 * of the last request made about each service (start, stop, …, save, remove), so the detail can say
 * what happened: the new state, or the API's typed error.
 */
import { create } from 'zustand';
import type { VigilApi } from '../../../shared/client';
import type { ApiErrorShape } from '../../../shared/errors';
import type { ServiceState } from '../../../shared/services';
import type { TraderConfirm } from '../../../shared/trader-api';
import type { ServiceAction } from './actions';
import { dismissActionError, runServiceAction, useActionsStore } from './actions';
import { useServicesStore } from './services';

export const detailTabs = ['overview', 'timeline', 'logs', 'config'] as const;
export type DetailTab = (typeof detailTabs)[number];

export interface ActionOutcome {
  action: ServiceAction;
  at: number;
  ok: boolean;
  /** The state the reply reported (ok only). */
  state: ServiceState | null;
  error: ApiErrorShape | null;
}

interface ServiceDetailStore {
  tab: DetailTab;
  outcomes: Readonly<Record<string, ActionOutcome | undefined>>;
  /** The service this window removed last, for the page to say so. */
  removed: { name: string; at: number } | null;
}

export const useServiceDetailStore = create<ServiceDetailStore>()(() => ({
  tab: 'overview',
  outcomes: {},
  removed: null,
}));

export function noteRemoved(name: string): void {
  useServiceDetailStore.setState((s) => ({
    removed: { name, at: Date.now() },
    outcomes: { ...s.outcomes, [name]: undefined },
  }));
}

export function dismissRemoved(): void {
  useServiceDetailStore.setState({ removed: null });
}

export function showTab(tab: DetailTab): void {
  useServiceDetailStore.setState({ tab });
}

/** Runs an action through the shared actions store (busy state, row error) and keeps its outcome. */
export async function runAndRecord(
  api: VigilApi,
  name: string,
  action: ServiceAction,
  confirm?: TraderConfirm,
): Promise<void> {
  if (useActionsStore.getState().busy[name]) return;
  await runServiceAction(api, name, action, confirm);
  const failure = useActionsStore.getState().errors[name];
  const failed = failure !== undefined && failure.action === action;
  const outcome: ActionOutcome = {
    action,
    at: Date.now(),
    ok: !failed,
    state: failed ? null : (useServicesStore.getState().byName[name]?.state ?? null),
    error: failed ? failure.error : null,
  };
  useServiceDetailStore.setState((s) => ({ outcomes: { ...s.outcomes, [name]: outcome } }));
}

/** Dismisses the outcome, and the same error on the service's row. */
export function forgetOutcome(name: string): void {
  useServiceDetailStore.setState((s) => ({ outcomes: { ...s.outcomes, [name]: undefined } }));
  dismissActionError(name);
}
