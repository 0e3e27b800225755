/**
 * One trader run by the built-in trader program: its mode (PAPER, on every view), its state and the
 * person's controls (Start with confirmation, Stop with its three ways, Resume opening, the kill
 * switch), why it may not open positions in words, its account, live charts, positions, working
 * orders, fills and orders, its strategy, its risk limits and the market data it trades on.
 */
import { useMemo, useState } from 'react';
import type { ServiceInfo } from '../../../../shared/services';
import { canStart, canStop, isUp } from '../../../../shared/service-actions';
import { traderMode, traderSymbols } from '../../../../shared/service-status';
import type { TraderSnapshot } from '../../../../shared/trader-api';
import { blocksInWords, canResumeOpening } from '../../../../shared/trader-ui/blocks';
import { modeBadge, modeExplain } from '../../../../shared/trader-ui/format';
import { useApi } from '../../connection-context';
import { useNow } from '../../lib/clock';
import { hrefFor } from '../../lib/route';
import { dismissActionError, useActionsStore } from '../../stores/actions';
import { useConnectionStore } from '../../stores/connection';
import {
  dismissTraderError,
  useTraderFeed,
  useTraderSnapshot,
  useTraderStore,
  type TraderAction,
} from '../../stores/trader';
import { Uptime } from '../Elapsed';
import { ErrorNote } from '../ErrorNote';
import { StateBadge } from '../StateBadge';
import { FillsBlotter, OrdersHistory } from './Blotter';
import { killTrader, setOpening, startTrader, stopTrader } from './commands';
import { LimitsEditor } from './LimitsEditor';
import { StrategyPanel } from './StrategyPanel';
import { TraderCharts } from './TraderCharts';
import { KillDialog, StartTraderDialog, StopTraderDialog, type StopChoice } from './TraderDialogs';
import { AccountFigures, FeedsTable, PositionsTable, WorkingOrdersTable } from './TraderTables';

const busyWords: Record<TraderAction, string> = {
  start: 'Starting…',
  opening: 'Stopping opening…',
  resume: 'Resuming opening…',
  stop: 'Stopping…',
  flatten: 'Flattening, then stopping…',
  kill: 'Kill switch: flattening…',
  limits: 'Saving limits…',
};

export function TraderView({ service }: { service: ServiceInfo }) {
  const api = useApi();
  const { name } = service;
  const names = useMemo(() => [name], [name]);
  useTraderFeed(api, names);
  const s = useTraderSnapshot(name);
  const error = useTraderStore((st) => st.errors[name]);
  return (
    <div
      className="trader"
      data-testid="trader-view"
      data-name={name}
      data-state={service.state}
      data-running={s?.running ?? false}
    >
      <TraderHead service={service} snapshot={s} />
      {s === undefined ? (
        error ? (
          <div className="panel">
            <ErrorNote error={error} testId="trader-state-error" />
            <p className="muted">
              Vigil could not read this trader’s state. It reads it again when the trader starts or stops, or
              when the connection comes back.
            </p>
          </div>
        ) : (
          <p className="empty">Reading the trader’s state…</p>
        )
      ) : (
        <Loaded name={name} s={s} />
      )}
    </div>
  );
}

function Loaded({ name, s }: { name: string; s: TraderSnapshot }) {
  const c = s.counters;
  return (
    <>
      <AccountFigures s={s} />
      <TraderCharts name={name} snapshot={s} />
      <div className="trader-grid">
        <PositionsTable s={s} />
        <WorkingOrdersTable s={s} />
      </div>
      <div className="trader-grid">
        <FillsBlotter name={name} fills={c.fills} />
        <OrdersHistory
          name={name}
          changes={`${c.orders}:${c.fills}:${c.rejected}:${s.workingOrders.length}`}
        />
      </div>
      <div className="trader-grid trader-grid-side">
        <StrategyPanel s={s} />
        <LimitsEditor name={name} limits={s.limits} running={s.running} />
      </div>
      <FeedsTable s={s} />
    </>
  );
}

function TraderHead({ service, snapshot }: { service: ServiceInfo; snapshot: TraderSnapshot | undefined }) {
  const api = useApi();
  const { name, state } = service;
  const connected = useConnectionStore((st) => st.status.state === 'connected');
  const serviceBusy = useActionsStore((st) => st.busy[name]);
  const serviceFailure = useActionsStore((st) => st.errors[name]);
  const busy = useTraderStore((st) => st.busy[name]);
  const failure = useTraderStore((st) => st.actionErrors[name]);
  const [dialog, setDialog] = useState<'start' | 'stop' | 'kill' | null>(null);
  const configured = traderMode(service);
  // The snapshot's mode is what the program runs; before one exists, the configuration's.
  const mode = snapshot?.mode ?? configured.mode;
  const symbols = traderSymbols(service);
  const idle = connected && serviceBusy === undefined && busy === undefined;
  const up = isUp(state);

  const stopAs = (choice: StopChoice): void => {
    setDialog(null);
    if (choice === 'opening') void setOpening(api, name, false);
    else void stopTrader(api, name, choice === 'flatten');
  };

  return (
    <section className="panel trader-head" data-mode={mode} aria-labelledby="trader-head-title">
      <div className="trader-head-row">
        <span
          className="trader-mode"
          data-mode={mode}
          data-testid="trader-mode-badge"
          title={mode === 'unknown' ? undefined : modeExplain(mode)}
        >
          {modeBadge(mode)}
        </span>
        <h2 id="trader-head-title" className="trader-name">
          {name}
        </h2>
        <StateBadge state={state} testId="trader-service-state" />
        {up && (
          <span className="muted">
            up <Uptime since={service.startedAt} />
          </span>
        )}
        <span className="muted trader-what">
          {snapshot?.venue ?? String(service.definition.config?.venue ?? '')}
          {symbols ? ` · ${symbols.join(', ')}` : ''}
          {snapshot ? ` · ${snapshot.resolution} candles` : ''}
        </span>
        <div className="trader-controls" role="group" aria-label={`Control ${name}`}>
          <button
            type="button"
            className="btn dash-start-trading"
            data-mode={mode}
            disabled={!idle || !canStart(state)}
            onClick={() => setDialog('start')}
            data-testid="trader-page-start"
            aria-label={`Start trading with ${name} (${modeBadge(mode)})`}
          >
            {serviceBusy === 'start' ? 'Starting…' : 'Start trading'}
          </button>
          <button
            type="button"
            className="btn"
            disabled={!idle || !canStop(state)}
            onClick={() => setDialog('stop')}
            data-testid="trader-page-stop"
            aria-label={`Stop trading with ${name}…`}
          >
            Stop trading…
          </button>
          {snapshot?.running && canResumeOpening(snapshot) && (
            <button
              type="button"
              className="btn"
              disabled={!idle}
              onClick={() => void setOpening(api, name, true)}
              data-testid="trader-resume"
            >
              Resume opening
            </button>
          )}
          <button
            type="button"
            className="btn btn-danger"
            disabled={!idle || !up || !snapshot?.running}
            onClick={() => setDialog('kill')}
            data-testid="trader-kill"
            aria-label={`Kill switch: cancel every order of ${name} and flatten every position`}
          >
            Kill switch
          </button>
        </div>
      </div>
      <p className="trader-mode-line" data-testid="trader-mode-line">
        {mode === 'unknown' ? 'Vigil cannot tell this trader’s mode.' : modeExplain(mode)}
      </p>
      {busy && (
        <p className="muted" role="status" data-testid="trader-busy">
          {busyWords[busy]}
        </p>
      )}
      {snapshot && <OpeningStatus s={snapshot} />}
      {failure && failure.action !== 'limits' && (
        <div className="trader-note">
          <span className="muted">{failure.action} failed: </span>
          <ErrorNote
            error={failure.error}
            testId="trader-action-error"
            onDismiss={() => dismissTraderError(name)}
          />
        </div>
      )}
      {serviceFailure && (
        <div className="trader-note">
          <span className="muted">{serviceFailure.action} failed: </span>
          <ErrorNote
            error={serviceFailure.error}
            testId="trader-service-error"
            onDismiss={() => dismissActionError(name)}
          />
        </div>
      )}
      {state === 'fatal' && (
        <p className="trader-note text-bad">
          It gave up after repeated failures. Read why in <a href={hrefFor('services', name)}>Services</a>,
          and acknowledge it there before starting it again.
        </p>
      )}
      {dialog === 'start' && (
        <StartTraderDialog
          service={service}
          testId="trader-start-confirm"
          onConfirm={() => {
            setDialog(null);
            void startTrader(api, service);
          }}
          onCancel={() => setDialog(null)}
        />
      )}
      {dialog === 'stop' && (
        <StopTraderDialog
          name={name}
          snapshot={snapshot}
          testId="trader-stop-dialog"
          onChoose={stopAs}
          onCancel={() => setDialog(null)}
        />
      )}
      {dialog === 'kill' && (
        <KillDialog
          name={name}
          snapshot={snapshot}
          onConfirm={() => {
            setDialog(null);
            void killTrader(api, name);
          }}
          onCancel={() => setDialog(null)}
        />
      )}
    </section>
  );
}

function OpeningStatus({ s }: { s: TraderSnapshot }) {
  const now = useNow();
  const notes = blocksInWords(s, now);
  if (!s.running) {
    return (
      <p className="trader-opening" data-testid="trader-opening" data-paused="true" data-blocks="">
        Not running: it trades nothing until you start it. Positions and P&amp;L below are as it left them.
      </p>
    );
  }
  if (notes.length === 0) {
    return (
      <p className="trader-opening" data-testid="trader-opening" data-paused="false" data-blocks="">
        <span className="trader-ok">Opening positions allowed</span>: it trades on every decision of its
        strategy, within its risk limits.
      </p>
    );
  }
  return (
    <ul
      className="trader-blocks"
      data-testid="trader-opening"
      data-paused="true"
      data-blocks={s.blocks.join(' ')}
      aria-label="Why it opens no positions"
    >
      {notes.map((n) => (
        <li key={n.block} className="trader-block" data-tone={n.tone} data-testid={`trader-block-${n.block}`}>
          {n.text}
        </li>
      ))}
    </ul>
  );
}
