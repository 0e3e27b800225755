import type { AppInfo } from '../../shared/api';
import type { ServiceManager } from '../supervisor/service-manager';
import type { Handlers } from './router';

export interface HandlerDeps {
  appInfo: () => AppInfo;
  services: ServiceManager;
}

export function createHandlers({ appInfo, services }: HandlerDeps): Handlers {
  return {
    'app.info': () => appInfo(),
    'services.list': () => services.list(),
    'services.get': ({ name }) => services.get(name),
    'services.start': ({ name }) => services.start(name),
    'services.stop': ({ name }) => services.stop(name),
    'services.restart': ({ name }) => services.restart(name),
  };
}
