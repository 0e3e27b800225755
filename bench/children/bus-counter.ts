/**
 * A bus subscriber in its own process for the collector bench: subscribes to argv[3] on the publisher
 * at argv[2] and answers `count` over IPC with how many book deltas, book snapshots and other
 * messages it got, and how many were reported dropped.
 */
import { EmbeddedBus } from '../../src/services/bus/embedded';

const [address, pattern] = process.argv.slice(2);
if (!address || !pattern) throw new Error('usage: bus-counter.ts <address> <pattern>');
const counts = { deltas: 0, snapshots: 0, other: 0, dropped: 0 };
const bus = await EmbeddedBus.open({ peers: [address] });
bus.subscribe(
  pattern,
  (m) => {
    const kind = (m.data as { kind?: string } | null)?.kind;
    if (kind === 'delta') counts.deltas += 1;
    else if (kind === 'snapshot') counts.snapshots += 1;
    else counts.other += 1;
  },
  { onGap: (g) => (counts.dropped += g.dropped ?? 0) },
);
process.on('message', () => process.send?.(counts));
process.on('disconnect', () => void bus.close().then(() => process.exit(0)));
process.send?.({ ready: true });
