/** Handlers for every command that touch no real service: for testing the transports around the router. */
import type { Handlers } from '../../src/main/api/router';
import { ApiError } from '../../src/shared/errors';
import type { ServiceInfo } from '../../src/shared/services';
import { defaultSettings } from '../../src/shared/settings';

export const fakeService = { name: 'svc', state: 'stopped' } as ServiceInfo;

function noTrader({ name }: { name: string }): never {
  throw new ApiError('not_found', `no service named "${name}"`, 'name');
}

export function fakeHandlers(overrides: Partial<Handlers> = {}): Handlers {
  return {
    'app.info': () => ({ name: 'Vigil' }) as never,
    'services.list': () => [fakeService],
    'services.get': ({ name }) => {
      if (name !== 'svc') throw new ApiError('not_found', `no service named "${name}"`, 'name');
      return fakeService;
    },
    'services.start': () => fakeService,
    'services.stop': () => fakeService,
    'services.restart': () => fakeService,
    'services.pause': () => fakeService,
    'services.resume': () => fakeService,
    'services.reload': () => fakeService,
    'services.acknowledge': () => fakeService,
    'services.add': () => fakeService,
    'services.update': () => fakeService,
    'services.remove': ({ name }) => ({ removed: name }),
    'services.logs': () => [],
    'programs.list': () => [],
    'history.series': ({ service, metric }) => ({
      service,
      metric,
      resolution: 'raw',
      bucketMs: 1000,
      points: [],
    }),
    'history.metrics': () => [],
    'events.list': () => ({ items: [], next: null }),
    'alerts.list': () => ({ items: [], next: null }),
    'alerts.acknowledge': ({ id }) => {
      throw new ApiError('not_found', `no alert with id ${id}`, 'id');
    },
    'config.export': ({ format }) => ({ format, text: '' }),
    'config.import': () => ({ applied: false, changes: [] }),
    'market.gaps': () => ({ items: [], next: null, total: 0, open: 0, notes: [], unreadable: [] }),
    'market.series': ({ venue, symbol, from, to }) => ({
      venue,
      symbol,
      from,
      to,
      bucketMs: 1000,
      candles: null,
      funding: null,
      openInterest: null,
      longShort: null,
      dvol: null,
      liquidations: null,
      notes: [],
    }),
    'market.top': () => ({ at: 0, live: false, tops: [] }),
    'optimizer.strategies': () => [],
    'optimizer.submit': () => {
      throw new ApiError('unavailable', 'no optimizer here');
    },
    'optimizer.cancel': ({ id }) => {
      throw new ApiError('not_found', `no optimizer run ${id}`, 'id');
    },
    'optimizer.runs': () => ({ items: [], next: null, total: 0 }),
    'optimizer.run': ({ id }) => {
      throw new ApiError('not_found', `no optimizer run ${id}`, 'id');
    },
    'optimizer.trials': ({ runId }) => {
      throw new ApiError('not_found', `no optimizer run ${runId}`, 'runId');
    },
    'optimizer.trial': ({ runId }) => {
      throw new ApiError('not_found', `no optimizer run ${runId}`, 'runId');
    },
    'optimizer.apply': ({ runId }) => {
      throw new ApiError('not_found', `no optimizer run ${runId}`, 'runId');
    },
    'trader.state': noTrader,
    'trader.orders': () => ({ items: [], next: null }),
    'trader.fills': () => ({ items: [], next: null }),
    'trader.equity': () => [],
    'trader.limits': noTrader,
    'trader.opening': noTrader,
    'trader.stop': noTrader,
    'trader.kill': noTrader,
    'settings.get': () => defaultSettings(),
    'settings.update': () => defaultSettings(),
    ...overrides,
  };
}
