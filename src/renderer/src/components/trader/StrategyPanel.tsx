/** The strategy the trader runs: which one, its parameters, where they came from, and its warm-up. */
import type { TraderSnapshot } from '../../../../shared/trader-api';
import { strategyParams, strategySourceText } from '../../../../shared/trader-ui/strategy';
import { hrefFor } from '../../lib/route';

export function StrategyPanel({ s }: { s: TraderSnapshot }) {
  const { strategy } = s;
  const params = strategyParams(strategy.params);
  const source = strategy.source;
  return (
    <section
      className="panel trader-strategy"
      data-testid="trader-strategy"
      aria-labelledby="trader-strategy-title"
    >
      <h2 id="trader-strategy-title" className="section-title">
        Strategy
      </h2>
      <dl className="trader-facts">
        <dt>Strategy</dt>
        <dd data-testid="trader-strategy-id">
          <code>{strategy.id}</code> <span className="muted">version {strategy.version}</span>
        </dd>
        <dt>Parameters</dt>
        <dd>
          {params.length === 0 ? (
            <span className="muted">the strategy’s defaults</span>
          ) : (
            <ul className="trader-params" aria-label="Parameters">
              {params.map((p) => (
                <li key={p.name} data-testid={`trader-param-${p.name}`}>
                  <span className="muted">{p.name}</span> <strong className="mono">{p.value}</strong>
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Came from</dt>
        <dd data-testid="trader-strategy-source" data-source={source ? 'optimizer' : 'hand'}>
          {strategySourceText(source)}
          {source && (
            <>
              {' '}
              (<a href={hrefFor('optimizer', String(source.runId))}>open run {source.runId}</a>)
            </>
          )}
        </dd>
        <dt>Warm-up</dt>
        <dd data-testid="trader-strategy-warmup">
          {strategy.warmupLeft > 0
            ? `${strategy.warmupLeft} more ${s.resolution} candle${strategy.warmupLeft === 1 ? '' : 's'} before the first decision`
            : 'warm: deciding on every closed candle'}
        </dd>
        {s.reloading && (
          <>
            <dt>Reload</dt>
            <dd className="text-warn" data-testid="trader-reloading">
              applying new parameters (market data buffered, then replayed)
            </dd>
          </>
        )}
      </dl>
      <p className="muted trader-note">
        New parameters come from the Optimizer (Apply to trader) or the service’s configuration in{' '}
        <a href={hrefFor('services', s.service)}>Services</a>; the trader takes them at its next reload.
      </p>
    </section>
  );
}
