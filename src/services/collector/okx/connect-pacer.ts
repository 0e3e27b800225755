/**
 * OKX allows 3 WebSocket connection requests per second per IP (reference/exchanges.md B3). A
 * collector with several connections (at most ~30 books per connection) would exceed that whenever they
 * all (re)connect at once: at start, after a network outage, on a 64008 service-upgrade notice. The
 * pacer hands out connection slots at least `spacingMs` apart (400 ms: 2.5 connects/s, so any 1 s
 * window holds at most 3), and the collector holds each connection attempt until its slot.
 */

export class ConnectPacer {
  private last = -Infinity;

  constructor(
    private readonly spacingMs = 400,
    private readonly now: () => number = Date.now,
  ) {}

  /** The epoch ms of the next free slot (now, if the last one is far enough behind), reserved. */
  reserve(): number {
    const slot = Math.max(this.now(), this.last + this.spacingMs);
    this.last = slot;
    return slot;
  }
}
