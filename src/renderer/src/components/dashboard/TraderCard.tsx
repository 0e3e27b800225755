/**
 * The trader card: each configured trader with its state, what it trades (mode and symbols, from its
 * configuration) and Start trading / Stop trading. Starting is the person's explicit act (DESIGN.md,
 * Safety): a modal names the mode and the symbols, and nothing starts until it is confirmed.
 */
import { useState } from 'react';
import type { ServiceInfo } from '../../../../shared/services';
import { useApi } from '../../connection-context';
import { traderConfirmMode, traderMode, traderSymbols } from '../../../../shared/service-status';
import { hrefFor } from '../../lib/route';
import { canAcknowledge, canStart, canStop, isUp } from '../../../../shared/service-actions';
import { dismissActionError, runServiceAction, useActionsStore } from '../../stores/actions';
import { useConnectionStore } from '../../stores/connection';
import { Uptime } from '../Elapsed';
import { ErrorNote } from '../ErrorNote';
import { StateBadge } from '../StateBadge';
import { ConfirmDialog } from './ConfirmDialog';

export function TraderCard({ services }: { services: readonly ServiceInfo[] }) {
  const traders = services.filter((s) => s.kind === 'trader');
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
  const [confirming, setConfirming] = useState<'start' | 'stop' | null>(null);
  const { name, state } = service;
  const mode = traderMode(service);
  const symbols = traderSymbols(service);
  const idle = connected && busy === undefined;

  const start = (): void => {
    setConfirming(null);
    // What the dialog named is what is confirmed: the core refuses a trader's start without it.
    void runServiceAction(api, name, 'start', { mode: traderConfirmMode(service) });
  };
  const stop = (): void => {
    setConfirming(null);
    void runServiceAction(api, name, 'stop');
  };

  return (
    <li className="dash-trader-row" data-testid={`trader-${name}`} data-state={state} data-mode={mode.mode}>
      <div className="dash-trader-main">
        <a className="dash-trader-name" href={hrefFor('services', name)}>
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
          {busy === 'stop' ? 'Stopping…' : 'Stop trading'}
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
      {confirming === 'start' && (
        <ConfirmDialog
          testId="trader-confirm"
          data={{ 'data-action': 'start', 'data-mode': mode.mode }}
          title={`Start trading with ${name}?`}
          confirmLabel={
            mode.mode === 'live'
              ? 'Start LIVE trading'
              : mode.mode === 'paper'
                ? 'Start paper trading'
                : 'Start trading'
          }
          danger={mode.mode !== 'paper'}
          onConfirm={start}
          onCancel={() => setConfirming(null)}
        >
          <StartSummary service={service} />
        </ConfirmDialog>
      )}
      {confirming === 'stop' && (
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

function StartSummary({ service }: { service: ServiceInfo }) {
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
