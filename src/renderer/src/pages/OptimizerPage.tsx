/**
 * Parameter searches over recorded candles: set one up from a strategy's parameter schema, watch the
 * runs progress (live from `optimizer.progress`), and read a run's trials in a sortable table and a
 * heat map over any two parameters, each result's in-sample and out-of-sample scores side by side;
 * open a trial's equity curve and apply its parameters to a trader. The chosen run is in the address
 * (#/optimizer/<id>), so it survives a reload and can be linked.
 */
import { Page } from '../components/Page';
import { RunDetail } from '../components/optimizer/RunDetail';
import { RunsPanel } from '../components/optimizer/RunsTable';
import { SearchPanel } from '../components/optimizer/SearchForm';
import { useApi } from '../connection-context';
import { useOptimizerFeed } from '../stores/optimizer';
import '../styles/optimizer.css';

function runIdOf(param: string | null): number | null {
  if (param === null || !/^\d+$/.test(param)) return null;
  const id = Number(param);
  return id > 0 ? id : null;
}

export function OptimizerPage({ param }: { param: string | null }) {
  const api = useApi();
  useOptimizerFeed(api);
  const selected = runIdOf(param);
  return (
    <Page id="optimizer" title="Optimizer">
      <div className="opt">
        <div className="opt-top">
          <SearchPanel />
          <RunsPanel selected={selected} />
        </div>
        {selected !== null && <RunDetail key={selected} runId={selected} />}
      </div>
    </Page>
  );
}
