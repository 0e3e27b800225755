/**
 * A trader starts only when a person confirmed the mode they were shown (DESIGN.md, Safety): the
 * supervisor refuses `start`/`restart` of a kind-trader service without `confirm: { mode }` matching
 * its mode, whatever the caller (window, tray, CLI, a script on the WebSocket). A mode Vigil cannot
 * tell (a custom program without config.mode) must be confirmed as "live": it may trade real money.
 * Restarts by the restart policy after a crash are not a person's start and do not pass here.
 */
import { ApiError } from '../../shared/errors';
import { traderConfirmMode, traderMode } from '../../shared/service-status';
import type { ServiceInfo } from '../../shared/services';
import type { TraderConfirm } from '../../shared/trader-api';

export function checkTraderConfirmation(
  service: ServiceInfo,
  action: 'start' | 'restart',
  confirm: TraderConfirm | undefined,
): void {
  if (service.kind !== 'trader') return;
  const wanted = traderConfirmMode(service);
  if (confirm?.mode === wanted) return;
  const { mode, label } = traderMode(service);
  const trades =
    mode === 'live'
      ? 'trades LIVE (real orders, real money)'
      : mode === 'paper'
        ? 'trades on paper'
        : `has a mode Vigil cannot tell (${label}), so it may trade live`;
  const asked = `confirm: { mode: "${wanted}" }`;
  const message =
    confirm === undefined
      ? `${service.name} ${trades}: to ${action} it, a person confirms that with ${asked}`
      : `${service.name} ${trades}, not "${confirm.mode}": to ${action} it, confirm with ${asked}`;
  throw new ApiError('confirmation-required', message, 'confirm');
}
