// The child the supervision benchmarks run: it reports "ready <pid>" to the bench's TCP server as
// soon as it is up (and `ready` over the protocol channel when it has one), heartbeats, and obeys
// "crash" and "hang" sent down that connection.
import { createConnection } from 'node:net';

const send = (m) => process.connected && process.send?.(m);
let beating = true;
const interval = Number(process.env.VIGIL_HEARTBEAT_MS ?? 1000);
setInterval(() => beating && send({ type: 'heartbeat', at: Date.now() }), interval);
process.on('message', (m) => m?.type === 'stop' && process.exit(0));
process.on('SIGTERM', () => process.exit(0));

const socket = createConnection({ host: '127.0.0.1', port: Number(process.env.BENCH_PORT) }, () => {
  socket.write(`ready ${process.pid}\n`);
  send({ type: 'ready' });
  send('ready'); // PM2's wait_ready spelling
});
socket.setEncoding('utf8');
socket.on('data', (d) => {
  if (d.includes('crash')) process.exit(1);
  if (d.includes('hang')) beating = false;
});
socket.on('error', () => process.exit(2));
