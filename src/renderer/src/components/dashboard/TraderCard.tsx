/**
 * The trader card: each configured trader with its state, what it trades (mode and symbols, from its
 * configuration) and Start trading / Stop trading. Starting is the person's explicit act (DESIGN.md,
 * Safety): a modal names the mode and the symbols, and nothing starts until it is confirmed (the
 * confirmation carries the mode to the core, which refuses a start without it).
 *
 * A trader run by the built-in trader program also shows its equity, the day's P&L and why it may
 * not open positions (live from `trader.update`), and Stop offers its three ways to stop.
 */
import { useMemo, useState } from 'react';
import type { ServiceInfo } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import { traderMode, traderSymbols } from '../../../../shared/service-status';
import { openingHeadline } from '../../../../shared/trader-ui/blocks';
import { formatMoney, formatSignedMoney, pnlTone } from '../../../../shared/trader-ui/format';
import { useNow } from '../../lib/clock';
import { hrefFor } from '../../lib/route';
import { canAcknowledge, canStart, canStop, isUp } from '../../../../shared/service-actions';
import { dismissActionError, runServiceAction, useActionsStore } from '../../stores/actions';
import { useConnectionStore } from '../../stores/connection';
import {
  dismissTraderError,
  isTraderProgram,
  useTraderFeed,
  useTraderSnapshot,
  useTraderStore,
} from '../../stores/trader';
import { Uptime } from '../Elapsed';
import { ErrorNote } from '../ErrorNote';
import { StateBadge } from '../StateBadge';
import { setOpening, startTrader, stopTrader } from '../trader/commands';
import { StartTraderDialog, StopTraderDialog, type StopChoice } from '../trader/TraderDialogs';
import { ConfirmDialog } from './ConfirmDialog';
import '../../styles/trader.css';

export function TraderCard({ services }: { services: readonly ServiceInfo[] }) {
  const api = useApi();
  const traders = useMemo(() => services.filter((s) => s.kind === 'trader'), [services]);
  const programNames = useMemo(() => traders.filter(isTraderProgram).map((t) => t.name), [traders]);
  useTraderFeed(api, programNames);
  return (
    <section className="panel dash-trader" data-testid="trader-card" aria-labelledby="dash-trader-title">
      <h2 id="dash-trader-title" className="section-title">
        Trading
      </h2>
      {traders.length === 0 ? (
        <p className="dash-trader-empty" data-testid="trader-empty">
          No trader is configured. Add a service of kind <strong>trader</strong> in{' '}
          <a href={hrefFor('services')}>Services</a>: its program, and in its configuration the{' '}
          <code>mode</code> (<code>&quot;paper&quot;</code> or <code>&quot;live&quot;</code>) and the{' '}
          <code>symbols</code> it trades. A trader never starts by itself: you start it here.
        </p>
      ) : (
        <ul className="dash-trader-list">
          {traders.map((t) => (
            <TraderRow key={t.name} service={t} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TraderRow({ service }: { service: ServiceInfo }) {
  const api = useApi();
  const connected = useConnectionStore((s) => s.status.state === 'connected');
  const busy = useActionsStore((s) => s.busy[service.name]);
  const failure = useActionsStore((s) => s.errors[service.name]);
  const traderBusy = useTraderStore((s) => s.busy[service.name]);
  const traderFailure = useTraderStore((s) => s.actionErrors[service.name]);
  const snapshot = useTraderSnapshot(service.name);
  const [confirming, setConfirming] = useState<'start' | 'stop' | null>(null);
  const { name, state } = service;
  const mode = traderMode(service);
  const symbols = traderSymbols(service);
  const idle = connected && busy === undefined && traderBusy === undefined;

  const program = isTraderProgram(service);
  const start = (): void => {
    setConfirming(null);
    void startTrader(api, service);
  };
  const stopAs = (choice: StopChoice): void => {
    setConfirming(null);
    if (choice === 'opening') void setOpening(api, name, false);
    else void stopTrader(api, name, choice === 'flatten');
  };
  const stop = (): void => {
    setConfirming(null);
    void runServiceAction(api, name, 'stop');
  };

  return (
    <li className="dash-trader-row" data-testid={`trader-${name}`} data-state={state} data-mode={mode.mode}>
      <div className="dash-trader-main">
        <a className="dash-trader-name" href={program ? hrefFor('trader', name) : hrefFor('services', name)}>
          {name}
        </a>
        <StateBadge state={state} testId={`trader-state-${name}`} />
        {isUp(state) && (
          <span className="muted">
            up <Uptime since={service.startedAt} />
          </span>
        )}
      </div>
      <dl className="dash-trader-facts">
        <div>
          <dt>Mode</dt>
          <dd>
            <span className="dash-mode" data-mode={mode.mode} data-testid={`trader-mode-${name}`}>
              {mode.label}
            </span>
          </dd>
        </div>
        <div>
          <dt>Symbols</dt>
          <dd data-testid={`trader-symbols-${name}`}>
            {symbols ? symbols.join(', ') : <span className="muted">not set (config.symbols)</span>}
          </dd>
        </div>
        {program && <TraderFigures name={name} />}
      </dl>
      <div className="dash-trader-actions">
        <button
          type="button"
          className="btn dash-start-trading"
          data-mode={mode.mode}
          disabled={!idle || !canStart(state)}
          onClick={() => setConfirming('start')}
          data-testid={`trader-start-${name}`}
          aria-label={`Start trading with ${name} (${mode.label})`}
        >
          {busy === 'start' ? 'Starting…' : 'Start trading'}
        </button>
        <button
          type="button"
          className="btn"
          disabled={!idle || !canStop(state)}
          onClick={() => setConfirming('stop')}
          data-testid={`trader-stop-${name}`}
          aria-label={`Stop trading with ${name}`}
        >
          {busy === 'stop' || traderBusy === 'stop' || traderBusy === 'flatten'
            ? 'Stopping…'
            : 'Stop trading'}
        </button>
      </div>
      {canAcknowledge(state) && (
        <p className="dash-trader-note text-bad" data-testid={`trader-fatal-${name}`}>
          It gave up after repeated failures. Read why in <a href={hrefFor('services', name)}>Services</a>,
          and acknowledge it there before starting it again.
        </p>
      )}
      {failure && (
        <div className="dash-trader-note">
          <span className="muted">{failure.action} failed: </span>
          <ErrorNote
            error={failure.error}
            testId={`trader-error-${name}`}
            onDismiss={() => dismissActionError(name)}
          />
        </div>
      )}
      {program && <OpeningLine name={name} />}
      {traderFailure && (
        <div className="dash-trader-note">
          <span className="muted">{traderFailure.action} failed: </span>
          <ErrorNote
            error={traderFailure.error}
            testId={`trader-error-${name}`}
            onDismiss={() => dismissTraderError(name)}
          />
        </div>
      )}
      {confirming === 'start' && (
        <StartTraderDialog
          service={service}
          testId="trader-confirm"
          onConfirm={start}
          onCancel={() => setConfirming(null)}
        />
      )}
      {confirming === 'stop' && program && (
        <StopTraderDialog
          name={name}
          snapshot={snapshot}
          testId="trader-confirm"
          onChoose={stopAs}
          onCancel={() => setConfirming(null)}
        />
      )}
      {confirming === 'stop' && !program && (
        <ConfirmDialog
          testId="trader-confirm"
          data={{ 'data-action': 'stop', 'data-mode': mode.mode }}
          title={`Stop trading with ${name}?`}
          confirmLabel="Stop trading"
          onConfirm={stop}
          onCancel={() => setConfirming(null)}
        >
          <p className="dash-dialog-text">
            Vigil asks {name} to stop ({service.definition.stop.signal}) and gives it{' '}
            {Math.round(service.definition.stop.timeoutMs / 1000)} s to cancel or close what it has open
            before it is killed.
          </p>
        </ConfirmDialog>
      )}
    </li>
  );
}

/** Equity and the day's P&L from the trader's snapshot (a dash until the first one). */
function TraderFigures({ name }: { name: string }) {
  const s = useTraderSnapshot(name);
  const day = s?.account.dayPnl ?? null;
  return (
    <>
      <div>
        <dt>Equity</dt>
        <dd className="num" data-testid={`trader-equity-${name}`}>
          {formatMoney(s?.account.equity)}
        </dd>
      </div>
      <div>
        <dt>Day P&amp;L</dt>
        <dd className="num pnl" data-tone={pnlTone(day)} data-testid={`trader-day-pnl-${name}`}>
          {formatSignedMoney(day)}
        </dd>
      </div>
    </>
  );
}

/** Whether it may open positions, in words (the first block, and how many more). */
function OpeningLine({ name }: { name: string }) {
  const s = useTraderSnapshot(name);
  const now = useNow();
  if (!s) return null;
  const line = openingHeadline(s, now);
  return (
    <p
      className="dash-trader-note dash-trader-opening"
      data-paused={line.paused}
      data-blocks={s.blocks.join(' ')}
      data-testid={`trader-opening-${name}`}
    >
      {line.text}
    </p>
  );
}
