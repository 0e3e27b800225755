/**
 * The trader's confirmations (DESIGN.md, Safety): Start names the mode and the symbols; Stop offers
 * the three ways to stop (stop opening, stop and flatten, stop keeping positions); the kill switch
 * says what it cancels and closes. All are modal, start on Cancel, and do nothing until confirmed.
 */
import type { ServiceInfo } from '../../../../shared/services';
import { traderMode, traderSymbols } from '../../../../shared/service-status';
import type { TraderSnapshot } from '../../../../shared/trader-api';
import { formatQty, formatSignedMoney, modeBadge } from '../../../../shared/trader-ui/format';
import { ConfirmDialog } from '../dashboard/ConfirmDialog';

export function StartSummary({ service }: { service: ServiceInfo }) {
  const mode = traderMode(service);
  const symbols = traderSymbols(service);
  const { program } = service.definition;
  return (
    <>
      <dl className="dash-dialog-facts">
        <dt>Mode</dt>
        <dd>
          <span className="dash-mode dash-mode-big" data-mode={mode.mode} data-testid="trader-confirm-mode">
            {mode.mode === 'live' ? 'LIVE' : mode.label}
          </span>
          <span className="dash-dialog-explain" data-testid="trader-confirm-mode-explain">
            {mode.mode === 'live'
              ? 'Real orders with real money on the exchange.'
              : mode.mode === 'paper'
                ? mode.source === 'default'
                  ? 'Simulated orders: this service does not set config.mode, and the built-in trader defaults to paper.'
                  : 'Simulated orders: nothing is sent to an exchange.'
                : mode.source === 'none'
                  ? 'This service does not set config.mode: Vigil cannot tell whether it trades on paper or live.'
                  : 'config.mode is neither "paper" nor "live": Vigil cannot tell what the program will do.'}
          </span>
        </dd>
        <dt>Symbols</dt>
        <dd data-testid="trader-confirm-symbols">
          {symbols ? (
            symbols.join(', ')
          ) : (
            <span className="muted">not set in config.symbols: whatever the program trades by default</span>
          )}
        </dd>
        <dt>Program</dt>
        <dd>
          <code className="dash-dialog-program">
            {program.type === 'builtin'
              ? `built-in: ${program.name}`
              : [program.command, ...program.args].join(' ')}
          </code>
        </dd>
      </dl>
      <p className="dash-dialog-text">
        It keeps trading until you stop it, here or in Services. Quitting Vigil stops it first.
      </p>
    </>
  );
}

export function startLabel(service: ServiceInfo): string {
  const { mode } = traderMode(service);
  return mode === 'live' ? 'Start LIVE trading' : mode === 'paper' ? 'Start paper trading' : 'Start trading';
}

export function StartTraderDialog({
  service,
  testId,
  onConfirm,
  onCancel,
}: {
  service: ServiceInfo;
  testId: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const { mode } = traderMode(service);
  return (
    <ConfirmDialog
      testId={testId}
      data={{ 'data-action': 'start', 'data-mode': mode }}
      title={`Start trading with ${service.name}?`}
      confirmLabel={startLabel(service)}
      danger={mode !== 'paper'}
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <StartSummary service={service} />
    </ConfirmDialog>
  );
}

export type StopChoice = 'opening' | 'keep' | 'flatten';

/** What the trader holds, in one sentence for the stop and kill dialogs. */
function holdings(s: TraderSnapshot | undefined): string {
  if (!s) return 'Vigil has no snapshot of its positions yet.';
  const open = s.positions.filter((p) => p.qty !== 0);
  const orders = s.workingOrders.length;
  const pos =
    open.length === 0
      ? 'It holds no position'
      : `It holds ${open.map((p) => `${formatQty(p.qty)} ${p.symbol}`).join(', ')} (unrealized ${formatSignedMoney(s.account.unrealizedPnl)})`;
  return `${pos}${orders > 0 ? ` and ${orders} working order${orders === 1 ? '' : 's'}` : ''}.`;
}

export function StopTraderDialog({
  name,
  snapshot,
  testId,
  onChoose,
  onCancel,
}: {
  name: string;
  snapshot: TraderSnapshot | undefined;
  testId: string;
  onChoose: (choice: StopChoice) => void;
  onCancel: () => void;
}) {
  const opening = snapshot !== undefined && !snapshot.blocks.includes('person');
  return (
    <ConfirmDialog
      testId={testId}
      data={{ 'data-action': 'stop', 'data-mode': snapshot?.mode ?? 'paper' }}
      title={`Stop trading with ${name}?`}
      confirmLabel="Stop and flatten"
      danger
      onConfirm={() => onChoose('flatten')}
      onCancel={onCancel}
      choices={[
        ...(opening
          ? [
              {
                label: 'Stop opening new positions',
                testId: `${testId}-opening`,
                onChoose: () => onChoose('opening'),
              },
            ]
          : []),
        { label: 'Stop, keep positions', testId: `${testId}-keep`, onChoose: () => onChoose('keep') },
      ]}
    >
      <p className="dash-dialog-text" data-testid={`${testId}-holdings`}>
        {holdings(snapshot)}
      </p>
      <ul className="trader-dialog-choices">
        {opening && (
          <li>
            <strong>Stop opening new positions</strong>: it keeps running, closes positions as its strategy
            decides, and opens none until you resume.
          </li>
        )}
        <li>
          <strong>Stop and flatten</strong>: cancels every working order, closes every position at the market,
          then stops the program.
        </li>
        <li>
          <strong>Stop, keep positions</strong>: stops the program now; its positions stay as they are (on
          paper) until it runs again.
        </li>
      </ul>
    </ConfirmDialog>
  );
}

export function KillDialog({
  name,
  snapshot,
  onConfirm,
  onCancel,
}: {
  name: string;
  snapshot: TraderSnapshot | undefined;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmDialog
      testId="trader-kill-confirm"
      data={{ 'data-action': 'kill', 'data-mode': snapshot?.mode ?? 'paper' }}
      title={`Kill switch: flatten ${name} now?`}
      confirmLabel="Cancel orders and flatten"
      cancelLabel="Keep trading"
      danger
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <p className="dash-dialog-text">
        Every working order is canceled and every position closed at the market, at once. The trader keeps
        running but opens nothing until you resume opening.
      </p>
      <p className="dash-dialog-text" data-testid="trader-kill-holdings">
        {holdings(snapshot)}
        {snapshot && ` Mode: ${modeBadge(snapshot.mode)}.`}
      </p>
    </ConfirmDialog>
  );
}
