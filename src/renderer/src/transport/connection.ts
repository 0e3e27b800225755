/**
 * Picks the transport once, at start: the preload's `window.vigil` inside Electron, otherwise the
 * headless server's WebSocket. Everything above this module sees only a VigilApi and a status.
 */
import type { VigilApi } from '../../../shared/client';
import { createClient } from '../../../shared/client';
import { openBrowserSocket, probeSession, wsUrlFor } from './browser-socket';
import { saveToken, takeToken } from './token';
import type { ConnectionStatus } from './ws-transport';
import { WsTransport } from './ws-transport';

export interface Connection {
  api: VigilApi;
  /** How this window reaches Vigil, in words. */
  transport: string;
  status(): ConnectionStatus;
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
  /** Only the WebSocket can be given a new token or be told to retry. */
  submitToken: ((token: string) => void) | null;
  retryNow: (() => void) | null;
}

export function openConnection(): Connection {
  if (window.vigil) return electronConnection(window.vigil);
  const transport = new WsTransport({
    token: takeToken(),
    wsUrl: wsUrlFor,
    openSocket: openBrowserSocket,
    probeSession,
  });
  const connection: Connection = {
    api: createClient(transport),
    transport: `WebSocket to ${window.location.host}`,
    status: () => transport.status,
    onStatus: (listener) => transport.onStatus(listener),
    submitToken: (token) => {
      saveToken(token);
      transport.replaceToken(token);
    },
    retryNow: () => transport.retryNow(),
  };
  transport.start();
  return connection;
}

/** IPC to the main process cannot drop or be refused: it is always connected. */
function electronConnection(api: VigilApi): Connection {
  const status: ConnectionStatus = { state: 'connected', detail: null, retryAt: null, server: null };
  return {
    api,
    transport: 'Electron IPC',
    status: () => status,
    onStatus: () => () => undefined,
    submitToken: null,
    retryNow: null,
  };
}
