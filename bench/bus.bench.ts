/**
 * The embedded bus between real processes: throughput from one publisher to one subscriber (batched
 * bus frames vs bare `ws` sending one frame per message, same messages, same loopback), end-to-end
 * latency at a paced 10,000 msg/s, and fan-out to 4 subscriber processes; the same loads over a real
 * nats-server side by side. Ratios compare runs made within this same process, one after the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NatsServer } from '../test/helpers/nats-server';
import { tempDir } from '../test/helpers/temp-dir';

const CHILD = fileURLToPath(new URL('./children/bus-bench-child.ts', import.meta.url));
const THROUGHPUT_MESSAGES = 200_000;
const FANOUT_MESSAGES = 100_000;
const LATENCY_RATE = 10_000;
const LATENCY_SECONDS = 3;

type Reply = { op: string; [k: string]: unknown };

class Child {
  readonly proc: ChildProcess;
  private readonly inbox: Reply[] = [];
  private waiter: (() => void) | undefined;
  constructor(role: string, target = '') {
    this.proc = spawn(process.execPath, ['--import', 'tsx', CHILD, role, target], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: Reply) => {
      this.inbox.push(m);
      this.waiter?.();
    });
  }
  send(m: Reply): void {
    this.proc.send(m);
  }
  async next(op: string, timeoutMs = 60_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.op === op);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`bench child: no ${op} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 100);
      });
    }
  }
  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Runs one publisher and `subs` subscribers; returns per-subscriber results of one workload. */
async function run(
  kind: 'bus' | 'nats' | 'ws',
  listen: string,
  subs: number,
  workload: Reply,
  count: number,
): Promise<{ seconds: number; dropped: number; latencies: number[][] }> {
  const pub = new Child(`${kind}-pub`, listen);
  const children = [pub];
  try {
    const address = String((await pub.next('listening')).address);
    const subscribers = Array.from({ length: subs }, () => new Child(`${kind}-sub`, address));
    children.push(...subscribers);
    await Promise.all(subscribers.map((s) => s.next('connected')));
    pub.send({ op: 'wait', n: subs });
    await pub.next('ready');
    for (const s of subscribers) s.send({ op: 'expect', count });
    await new Promise((r) => setTimeout(r, 100)); // let 'expect' land before the first message
    pub.send(workload);
    const sent = await pub.next('sent');
    const done = await Promise.all(subscribers.map((s) => s.next('done')));
    const lastAt = Math.max(...done.map((d) => Number(d.at)));
    return {
      seconds: (lastAt - Number(sent.t0)) / 1000,
      dropped: Number(sent.dropped),
      latencies: done.map((d) => d.latencies as number[]),
    };
  } finally {
    for (const c of children) c.kill();
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const dir = tempDir('vbus-bench-');
  const nats = await NatsServer.start();
  try {
    const burst = { op: 'burst', count: THROUGHPUT_MESSAGES };
    console.log(
      `throughput, 1 publisher -> 1 subscriber process, ${fmt(THROUGHPUT_MESSAGES)} messages (~130 B each)`,
    );
    const ws = await run('ws', '', 1, burst, THROUGHPUT_MESSAGES);
    const busTcp = await run('bus', '127.0.0.1:0', 1, burst, THROUGHPUT_MESSAGES);
    const busUnix = await run('bus', join(dir.path, 'a.sock'), 1, burst, THROUGHPUT_MESSAGES);
    const viaNats = await run('nats', nats.url, 1, burst, THROUGHPUT_MESSAGES);
    const rate = (r: { seconds: number }): number => THROUGHPUT_MESSAGES / r.seconds;
    console.log(`  raw ws (1 frame/msg), TCP loopback: ${fmt(rate(ws))} msg/s`);
    console.log(
      `  bus (batched), TCP loopback:        ${fmt(rate(busTcp))} msg/s  = ${(rate(busTcp) / rate(ws)).toFixed(2)}x ws  (target >= 0.8x; dropped ${busTcp.dropped})`,
    );
    console.log(
      `  bus (batched), Unix socket:         ${fmt(rate(busUnix))} msg/s  = ${(rate(busUnix) / rate(ws)).toFixed(2)}x ws  (dropped ${busUnix.dropped})`,
    );
    console.log(
      `  bus over nats-server:               ${fmt(rate(viaNats))} msg/s  = ${(rate(viaNats) / rate(ws)).toFixed(2)}x ws, ${(rate(viaNats) / rate(busTcp)).toFixed(2)}x embedded TCP`,
    );

    const latencyCount = LATENCY_RATE * LATENCY_SECONDS;
    console.log(
      `\nend-to-end latency at ${fmt(LATENCY_RATE)} msg/s for ${LATENCY_SECONDS} s (publish call -> handler)`,
    );
    for (const [label, kind, listen] of [
      ['bus, Unix socket', 'bus', join(dir.path, 'b.sock')],
      ['bus, TCP loopback', 'bus', '127.0.0.1:0'],
      ['bus over nats-server', 'nats', nats.url],
      ['raw ws, TCP loopback', 'ws', ''],
    ] as const) {
      const r = await run(
        kind,
        listen,
        1,
        { op: 'paced', rate: LATENCY_RATE, seconds: LATENCY_SECONDS },
        latencyCount,
      );
      const lat = r.latencies[0]!;
      console.log(
        `  ${label.padEnd(22)} p50 ${pct(lat, 50).toFixed(3)} ms  p99 ${pct(lat, 99).toFixed(3)} ms  max ${pct(lat, 100).toFixed(3)} ms  (target p99 < 1 ms)`,
      );
    }

    console.log(
      `\nfan-out, 1 publisher -> 4 subscriber processes, ${fmt(FANOUT_MESSAGES)} messages each (2 cores)`,
    );
    for (const [label, kind, listen] of [
      ['bus, Unix socket', 'bus', join(dir.path, 'c.sock')],
      ['bus over nats-server', 'nats', nats.url],
      ['raw ws, TCP loopback', 'ws', ''],
    ] as const) {
      const r = await run(kind, listen, 4, { op: 'burst', count: FANOUT_MESSAGES }, FANOUT_MESSAGES);
      console.log(
        `  ${label.padEnd(22)} ${fmt(FANOUT_MESSAGES / r.seconds)} msg/s per subscriber, ${fmt((4 * FANOUT_MESSAGES) / r.seconds)} deliveries/s total (dropped ${r.dropped})`,
      );
    }
  } finally {
    await nats.stop();
    dir.remove();
  }
}

await main();
