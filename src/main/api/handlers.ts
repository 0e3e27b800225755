import type { AppInfo, CommandParsedInput } from '../../shared/api';
import type {
  OptimizerRequest,
  OptimizerRun,
  OptimizerRunPage,
  OptimizerTrialDetail,
  OptimizerTrialPage,
  StrategyInfo,
} from '../../shared/optimizer-api';
import type { BuiltinProgram, ServiceInfo } from '../../shared/services';
import type { Supervisor } from '../supervisor/supervisor';
import type { ConfigService } from './config-service';
import type { HistoryService } from './history-service';
import type { MarketService } from './market-service';
import type { Handlers } from './router';
import type { TraderCommands } from './trader-service';

/** The optimizer's side of the API (src/main/api/optimizer-service.ts). */
export interface OptimizerCommands {
  strategies(): StrategyInfo[];
  submit(request: OptimizerRequest): Promise<OptimizerRun>;
  cancel(id: number): Promise<OptimizerRun>;
  runs(q: CommandParsedInput<'optimizer.runs'>): OptimizerRunPage;
  run(id: number): OptimizerRun;
  trials(q: CommandParsedInput<'optimizer.trials'>): OptimizerTrialPage;
  trial(runId: number, trialId: number): OptimizerTrialDetail;
  apply(runId: number, trialId: number, service: string): Promise<ServiceInfo>;
}

export interface HandlerDeps {
  appInfo: () => AppInfo;
  supervisor: Supervisor;
  history: HistoryService;
  config: ConfigService;
  market: MarketService;
  optimizer: OptimizerCommands;
  trader: TraderCommands;
  programs: () => BuiltinProgram[];
}

export function createHandlers({
  appInfo,
  supervisor: s,
  history: h,
  config: c,
  market: m,
  optimizer: o,
  trader: t,
  programs,
}: HandlerDeps): Handlers {
  return {
    'app.info': () => appInfo(),
    'services.list': () => s.list(),
    'services.get': ({ name }) => s.get(name),
    'services.start': ({ name, confirm }) => s.start(name, confirm),
    'services.stop': ({ name }) => s.stop(name),
    'services.restart': ({ name, confirm }) => s.restart(name, confirm),
    'services.pause': ({ name }) => s.pause(name),
    'services.resume': ({ name }) => s.resume(name),
    'services.reload': ({ name, config }) => s.reload(name, config),
    'services.acknowledge': ({ name }) => s.acknowledge(name),
    'services.add': ({ definition }) => s.add(definition),
    'services.update': ({ name, definition }) => s.update(name, definition),
    'services.remove': ({ name }) => s.remove(name),
    'services.logs': ({ name, lines, stream, contains, before }) =>
      before === undefined
        ? s.logTail(name, lines, { stream, contains })
        : s.logBefore(name, before, lines, { stream, contains }),
    'programs.list': () => programs(),
    'history.series': (q) => h.series(q),
    'history.metrics': ({ service }) => h.metrics(service),
    'events.list': (q) => h.events(q),
    'alerts.list': (q) => h.alerts(q),
    'alerts.acknowledge': ({ id }) => h.acknowledge(id),
    'config.export': ({ format }) => c.export(format),
    'config.import': ({ text, format, dryRun }) => c.import(text, format, dryRun),
    'market.gaps': (q) => m.gaps(q),
    'market.series': (q) => m.series(q),
    'market.top': (q) => m.top(q),
    'optimizer.strategies': () => o.strategies(),
    'optimizer.submit': ({ request }) => o.submit(request),
    'optimizer.cancel': ({ id }) => o.cancel(id),
    'optimizer.runs': (q) => o.runs(q),
    'optimizer.run': ({ id }) => o.run(id),
    'optimizer.trials': (q) => o.trials(q),
    'optimizer.trial': ({ runId, trialId }) => o.trial(runId, trialId),
    'optimizer.apply': ({ runId, trialId, service }) => o.apply(runId, trialId, service),
    'trader.state': ({ name }) => t.state(name),
    'trader.orders': (q) => t.orders(q),
    'trader.fills': (q) => t.fills(q),
    'trader.equity': (q) => t.equity(q),
    'trader.limits': ({ name, limits }) => t.limits(name, limits),
    'trader.opening': ({ name, allowed }) => t.opening(name, allowed),
    'trader.stop': ({ name, flatten }) => t.stop(name, flatten),
    'trader.kill': ({ name }) => t.kill(name),
    'settings.get': () => c.settings(),
    'settings.update': ({ patch }) => c.updateSettings(patch),
  };
}
