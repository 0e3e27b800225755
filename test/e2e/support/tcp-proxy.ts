/**
 * A TCP proxy in front of the server, so a test can cut the browser's connection (and hold replies)
 * without touching the server, which must survive the whole run.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Stop forwarding server → browser bytes (they are dropped): replies the browser waits for never come. */
  hold(): void;
  /** Forward server → browser bytes again (what was held is gone). */
  release(): void;
  /** Destroy every connection and refuse new ones: the browser sees the server go away. */
  cut(): Promise<void>;
  /** Accept connections again on the same port, forwarding everything. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let holding = false;

  const onConnection = (client: Socket): void => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined); // a cut connection errors on the other side; that is the point
    }
    client.on('data', (data) => upstream.write(data));
    upstream.on('data', (data) => {
      if (!holding) client.write(data);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  };

  let server: Server = createServer(onConnection);
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const port = await listen(0);

  const destroyAll = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      destroyAll();
    });

  return {
    port,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
    },
    cut: async () => {
      await closeServer();
      holding = false;
    },
    restore: async () => {
      server = createServer(onConnection);
      await listen(port);
    },
    close: closeServer,
  };
}
