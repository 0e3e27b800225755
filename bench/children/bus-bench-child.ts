/**
 * One process of the bus bench, driven over the IPC channel. Roles (argv[2]):
 * - `bus-pub` / `nats-pub` / `ws-pub`: publisher (embedded bus; the bus over a NATS server at argv[3];
 *   or a bare `ws` server sending one frame per message);
 * - `bus-sub` / `nats-sub` / `ws-sub`: subscriber connecting to argv[3], reporting counts and latencies.
 */
import WebSocket, { WebSocketServer } from 'ws';
import { EmbeddedBus } from '../../src/services/bus/embedded';
import { NatsBus } from '../../src/services/bus/nats';
import type { Bus } from '../../src/services/bus/types';

type Msg = { op: string; [k: string]: unknown };
const role = process.argv[2];
const target = process.argv[3] ?? '';
const send = (m: unknown): void => void process.send?.(m);
const now = (): number => performance.timeOrigin + performance.now();
const SUBJECT = 'md.binance-spot.BTCUSDT.trade';
const tick = (seq: number): { seq: number; px: number; qty: number; side: string; hr: number } => ({
  seq,
  px: 64_000 + (seq % 100) / 10,
  qty: 0.001 * (1 + (seq % 7)),
  side: seq % 2 ? 'buy' : 'sell',
  hr: now(),
});
const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Publishes `count` as fast as flow control allows: slices, then wait until the bytes left. */
async function burst(
  publishOne: (seq: number) => void,
  settle: () => Promise<void>,
  count: number,
): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    publishOne(seq);
    if (seq % 2_000 === 1_999) await settle();
  }
  await settle();
}

/** Publishes at `rate` msg/s for `seconds`, catching up each 1 ms timer tick. */
async function paced(publishOne: (seq: number) => void, rate: number, seconds: number): Promise<void> {
  const start = performance.now();
  let seq = 0;
  const total = rate * seconds;
  while (seq < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
    while (seq < due) publishOne(seq++);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function main(): Promise<void> {
  if (role === 'bus-pub' || role === 'nats-pub') {
    const nats = role === 'nats-pub';
    const bus: Bus = nats
      ? await NatsBus.connect({ servers: target })
      : await EmbeddedBus.open({ listen: target, queueCapacity: 100_000 });
    const publishOne = (seq: number): void => bus.publish(SUBJECT, tick(seq));
    process.on('message', async (m: Msg) => {
      if (m.op === 'wait') {
        // NATS cannot list remote subscribers; the subscribers said 'connected' after their SUB flushed.
        while (!nats && bus.metrics().subscribers.filter((s) => s.patterns.length > 0).length < Number(m.n))
          await yieldTurn();
        send({ op: 'ready' });
      } else if (m.op === 'burst') {
        const t0 = now();
        await burst(publishOne, () => bus.flush(), Number(m.count));
        send({ op: 'sent', t0, dropped: bus.metrics().dropped });
      } else if (m.op === 'paced') {
        const t0 = now();
        await paced(publishOne, Number(m.rate), Number(m.seconds));
        await bus.flush();
        send({ op: 'sent', t0, dropped: bus.metrics().dropped });
      }
    });
    send({ op: 'listening', address: nats ? target : (bus as EmbeddedBus).address });
  } else if (role === 'ws-pub') {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    const clients = new Set<WebSocket>();
    wss.on('connection', (ws) => clients.add(ws));
    const publishOne = (seq: number): void => {
      const frame = JSON.stringify([SUBJECT, Date.now(), tick(seq)]);
      for (const ws of clients) ws.send(frame);
    };
    const settle = async (): Promise<void> => {
      while ([...clients].some((ws) => ws.bufferedAmount > 0)) await yieldTurn();
    };
    process.on('message', async (m: Msg) => {
      if (m.op === 'wait') {
        while (clients.size < Number(m.n)) await yieldTurn();
        send({ op: 'ready' });
      } else if (m.op === 'burst') {
        const t0 = now();
        await burst(publishOne, settle, Number(m.count));
        send({ op: 'sent', t0, dropped: 0 });
      } else if (m.op === 'paced') {
        const t0 = now();
        await paced(publishOne, Number(m.rate), Number(m.seconds));
        await settle();
        send({ op: 'sent', t0, dropped: 0 });
      }
    });
    const address = wss.address();
    send({
      op: 'listening',
      address: typeof address === 'object' && address ? `ws://127.0.0.1:${address.port}` : String(address),
    });
  } else {
    let received = 0;
    let expected = Infinity;
    let latencies: number[] = [];
    const onMessage = (data: { hr: number }): void => {
      received += 1;
      latencies.push(now() - data.hr);
      if (received === expected) send({ op: 'done', at: now(), received, latencies });
    };
    process.on('message', (m: Msg) => {
      if (m.op === 'expect') {
        received = 0;
        latencies = [];
        expected = Number(m.count);
      }
    });
    if (role === 'bus-sub') {
      const bus = await EmbeddedBus.open({ peers: [target] });
      bus.subscribe('md.*.BTCUSDT.>', (m) => onMessage(m.data as { hr: number }));
      await bus.whenConnected();
    } else if (role === 'nats-sub') {
      const bus = await NatsBus.connect({ servers: target, queueCapacity: 1_000_000 });
      bus.subscribe('md.*.BTCUSDT.>', (m) => onMessage(m.data as { hr: number }));
      await bus.flush(); // the subscription has reached the server
    } else {
      const ws = new WebSocket(target);
      ws.on('message', (d) => onMessage((JSON.parse(String(d)) as [string, number, { hr: number }])[2]));
      await new Promise((r) => ws.once('open', r));
    }
    send({ op: 'connected' });
  }
}

void main();
