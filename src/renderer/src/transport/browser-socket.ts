/** The browser's own WebSocket and fetch, adapted to what WsTransport needs. */
import { TOKEN_PARAM, WS_PATH } from '../../../shared/wire';
import type { SessionVerdict, SocketFactory } from './ws-transport';

export const openBrowserSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data === 'string') handlers.onMessage(event.data);
  };
  // An error is always followed by a close; the close alone drives reconnection.
  socket.onclose = () => handlers.onClose();
  return {
    send: (data) => socket.send(data),
    close: () => socket.close(),
  };
};

export function wsUrlFor(token: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`;
}

export async function probeSession(token: string): Promise<SessionVerdict> {
  try {
    const res = await fetch(`/api/session?${TOKEN_PARAM}=${encodeURIComponent(token)}`, {
      cache: 'no-store',
    });
    if (res.status === 401 || res.status === 403) return 'unauthorized';
    return res.ok ? 'ok' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}
