/**
 * Where `--demo` runs the simulator: the usual ports (7431–7434) when they are free, else
 * any free ones, so a second demo or a test run alongside never fails to start. The demo writes its
 * collector definitions at every start, so the ports can differ from run to run.
 */
import { createServer } from 'node:net';
import { DEMO_PORTS, type DemoPorts } from './supervisor/definitions';

async function bindable(port: number): Promise<number | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

export async function demoPorts(): Promise<DemoPorts> {
  const taken: number[] = [];
  const pick = async (preferred: number): Promise<number> => {
    const port = (await bindable(preferred)) ?? (await bindable(0));
    if (port === null || taken.includes(port)) return pick(0);
    taken.push(port);
    return port;
  };
  return {
    'binance-spot': await pick(DEMO_PORTS['binance-spot']),
    'binance-usdm': await pick(DEMO_PORTS['binance-usdm']),
    okx: await pick(DEMO_PORTS.okx),
    deribit: await pick(DEMO_PORTS.deribit),
  };
}
