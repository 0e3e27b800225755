/**
 * Supervised children for the trader bench (protocol vigil, run as command programs under the real
 * supervisor, so they sit on the real bus like a collector and a strategy would).
 *
 *   md-feed.ts publisher   publishes trades and tops for the symbols it is asked, as a collector does:
 *                          request `feed.run` { venue, symbols, rate (msg/s, all symbols together),
 *                          seconds, periodMs? } → { published, ms, subscribers } once done, where
 *                          subscribers are its per-subscriber queue counters (delivered, dropped).
 *                          Prices follow a wave of `periodMs` (default 6 s) so 1 s candles cross.
 *                          `feed.stats` → those subscriber counters now.
 *   md-feed.ts counter     the bare subscriber: counts md.> messages and the drops it is told of;
 *                          request `feed.count` → { received, dropped }.
 */
import type { TopOfBookRecord, TradeRecord, Venue } from '../../src/shared/market';
import { startChild } from '../../src/services/sdk';

interface RunParams {
  venue: Venue;
  symbols: string[];
  rate: number;
  seconds: number;
  periodMs?: number;
}

const role = process.argv[2];
if (role !== 'publisher' && role !== 'counter') throw new Error('usage: md-feed.ts publisher|counter');

const counts = { received: 0, dropped: 0 };
const child = startChild({
  onRequest: (method, params) => {
    if (role === 'publisher' && method === 'feed.run') return run(params as RunParams);
    if (role === 'publisher' && method === 'feed.stats') return subscribers();
    if (role === 'counter' && method === 'feed.count') return { ...counts };
    throw new Error(`md-feed ${role} takes no request ${method}`);
  },
});
const bus = await child.bus();

if (role === 'counter') {
  bus.subscribe(
    'md.>',
    () => {
      counts.received += 1;
    },
    { onGap: (g) => (counts.dropped += g.dropped ?? 0) },
  );
}

let tradeId = 1;

/** Publishes at `rate` for `seconds`, in small batches on a 5 ms timer, alternating trade and top. */
async function run(p: RunParams): Promise<unknown> {
  const period = p.periodMs ?? 6_000;
  const base = p.symbols.map((_, i) => 100 * (i + 1));
  const t0 = performance.now();
  const wall0 = Date.now();
  let published = 0;
  const total = Math.round(p.rate * p.seconds);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((p.rate * elapsed) / 1000));
      const now = Date.now();
      while (published < due) {
        const i = published % p.symbols.length;
        const symbol = p.symbols[i]!;
        const mid = base[i]! * (1 + 0.01 * Math.sin((2 * Math.PI * (now - wall0)) / period));
        const common = { venue: p.venue, symbol, exchangeTs: now, localTs: now };
        if (Math.floor(published / p.symbols.length) % 2 === 0) {
          const trade: TradeRecord = {
            ...common,
            type: 'trade',
            id: String(tradeId++),
            price: mid,
            size: 0.01,
            side: published % 3 === 0 ? 'buy' : 'sell',
          };
          bus.publish(`md.${p.venue}.${symbol}.trade`, trade);
        } else {
          const top: TopOfBookRecord = {
            ...common,
            type: 'top',
            bidPrice: mid - 0.01,
            bidSize: 1,
            askPrice: mid + 0.01,
            askSize: 1,
          };
          bus.publish(`md.${p.venue}.${symbol}.top`, top);
        }
        published += 1;
      }
      if (published >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  const ms = performance.now() - t0;
  await bus.flush();
  return { published, ms, subscribers: subscribers() };
}

function subscribers(): { id: string; patterns: string[]; delivered: number; dropped: number }[] {
  return bus.metrics().subscribers.map((s) => ({
    id: s.id,
    patterns: s.patterns,
    delivered: s.delivered,
    dropped: s.dropped,
  }));
}

child.ready({ role });
