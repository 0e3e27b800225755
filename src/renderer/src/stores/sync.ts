/**
 * Keeps the stores in step with Vigil: (re)loads everything whenever the connection comes up (events
 * missed while it was down are not replayed), applies live events, and forgets API data when the
 * token is refused so nothing stale is shown to someone who is not authenticated.
 */
import type { Connection } from '../transport/connection';
import type { ConnectionStatus } from '../transport/ws-transport';
import { startAlertSync } from './alerts';
import { useAppInfoStore } from './app-info';
import { useConnectionStore } from './connection';
import { useLiveMetricsStore } from './live-metrics';
import { isServiceInfo, useServicesStore } from './services';

export function startSync(connection: Connection): () => void {
  const { api } = connection;
  const services = useServicesStore.getState();
  const appInfo = useAppInfoStore.getState();

  const reload = async (): Promise<void> => {
    const [info, list] = await Promise.all([api.app.info(), api.services.list()]);
    if (info.ok) appInfo.set(info.result);
    else appInfo.fail(info.error);
    if (list.ok) services.replaceAll(list.result);
    else services.fail(list.error);
  };

  const offEvents = api.on('service.state', (payload) => {
    if (isServiceInfo(payload)) services.upsert(payload);
  });
  const offMetrics = api.on('metrics', (sample) => useLiveMetricsStore.getState().set(sample));
  const offRemoved = api.on('service.removed', (payload) => {
    if (typeof payload?.name === 'string') services.remove(payload.name);
  });
  const stopAlerts = startAlertSync(connection);

  let previous: ConnectionStatus['state'] | null = null;
  const apply = (status: ConnectionStatus): void => {
    useConnectionStore.getState().set(status);
    if (status.state === 'connected' && previous !== 'connected') void reload();
    if (status.state === 'auth-failed') {
      services.clear();
      appInfo.clear();
      useLiveMetricsStore.getState().clear();
    }
    previous = status.state;
  };
  const offStatus = connection.onStatus(apply);
  apply(connection.status());

  return () => {
    offStatus();
    offEvents();
    offMetrics();
    offRemoved();
    stopAlerts();
  };
}
