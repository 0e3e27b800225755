/**
 * Where `--demo` runs the simulator: the usual ports (7431 spot, 7432 USD-M) when they are free, else
 * any free ones, so a second demo or a test run alongside never fails to start. The demo writes its
 * collector definitions at every start, so the ports can differ from run to run.
 */
import { createServer } from 'node:net';
import { DEMO_PORTS } from './supervisor/definitions';

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

export async function demoPorts(): Promise<{ 'binance-spot': number; 'binance-usdm': number }> {
  const pick = async (preferred: number, avoid: number): Promise<number> => {
    const port = (await bindable(preferred)) ?? (await bindable(0));
    if (port === null || port === avoid) return pick(0, avoid);
    return port;
  };
  const spot = await pick(DEMO_PORTS['binance-spot'], -1);
  return { 'binance-spot': spot, 'binance-usdm': await pick(DEMO_PORTS['binance-usdm'], spot) };
}
