import { createServer, type Server } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { demoPorts } from '../../src/main/demo-ports';
import { DEMO_PORTS } from '../../src/main/supervisor/definitions';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

it('--demo takes other free ports when the usual ones are taken, never the same one twice', async () => {
  for (const port of Object.values(DEMO_PORTS)) {
    const s = createServer();
    await new Promise<void>((r) => {
      s.once('error', () => r()); // already taken by something else: just as good for this test
      s.listen(port, '127.0.0.1', () => r());
    });
    servers.push(s);
  }
  const ports = await demoPorts();
  for (const [name, port] of Object.entries(DEMO_PORTS)) {
    expect(ports[name as keyof typeof DEMO_PORTS]).not.toBe(port);
    expect(ports[name as keyof typeof DEMO_PORTS]).toBeGreaterThan(0);
  }
  expect(new Set(Object.values(ports)).size).toBe(Object.keys(DEMO_PORTS).length);
});
