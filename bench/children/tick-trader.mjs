// A stand-in for the trader (which does not exist yet): a latency-sensitive child that takes a tick
// over its IPC channel, decides (a 200-close moving average, as a strategy would), and answers at
// once. The bench measures tick-to-decision as the round trip.
const closes = new Float64Array(200);
let i = 0;
process.on('message', (m) => {
  if (m?.type === 'stop') process.exit(0);
  if (m?.type !== 'tick') return;
  closes[i++ % closes.length] = m.price;
  let sum = 0;
  for (let k = 0; k < closes.length; k++) sum += closes[k];
  process.send({ type: 'decision', seq: m.seq, target: m.price > sum / closes.length ? 1 : -1 });
});
process.send({ type: 'ready' });
