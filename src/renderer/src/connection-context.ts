import { createContext, useContext } from 'react';
import type { VigilApi } from '../../shared/client';
import type { Connection } from './transport/connection';

export const ConnectionContext = createContext<Connection | null>(null);

export function useConnection(): Connection {
  const connection = useContext(ConnectionContext);
  if (!connection) throw new Error('useConnection needs a ConnectionContext provider');
  return connection;
}

export function useApi(): VigilApi {
  return useConnection().api;
}
