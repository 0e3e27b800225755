/**
 * Fixed-size windows over a stream of numbers, for strategies that see one candle at a time: typed
 * ring buffers, no allocation per value.
 *
 * - `RollingWindow`: the last `size` values; a running mean in O(1) and an exact mean and standard
 *   deviation in O(size).
 * - `RollingExtreme`: the maximum (or minimum) of the last `size` values in amortised O(1).
 */

export class RollingWindow {
  private readonly buf: Float64Array;
  private next = 0;
  private count = 0;
  private sum = 0;
  /** Set by `meanStd`. */
  mean = NaN;
  std = NaN;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a window holds at least 1 value, not ${size}`);
    this.buf = new Float64Array(size);
  }

  get full(): boolean {
    return this.count === this.size;
  }

  push(x: number): void {
    if (this.count === this.size) this.sum -= this.buf[this.next]!;
    else this.count += 1;
    this.buf[this.next] = x;
    this.sum += x;
    this.next += 1;
    if (this.next === this.size) {
      this.next = 0;
      // Adding and subtracting for ever drifts: start the sum afresh once per turn (amortised O(1)).
      let s = 0;
      for (let i = 0; i < this.count; i++) s += this.buf[i]!;
      this.sum = s;
    }
  }

  /** The mean of the values held, from the running sum. */
  runningMean(): number {
    return this.sum / this.count;
  }

  /** Sets `mean` and the population standard deviation `std` of the values held, in two passes. */
  meanStd(): void {
    const n = this.count;
    let s = 0;
    for (let i = 0; i < n; i++) s += this.buf[i]!;
    const mean = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = this.buf[i]! - mean;
      ss += d * d;
    }
    this.mean = mean;
    this.std = Math.sqrt(ss / n);
  }
}

/** A monotonic queue: the front is the window's extreme, later values it dominates are dropped. */
export class RollingExtreme {
  private readonly values: Float64Array;
  private readonly at: Float64Array;
  private head = 0;
  private length = 0;
  private pushed = 0;

  constructor(
    readonly size: number,
    private readonly kind: 'max' | 'min',
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a window holds at least 1 value, not ${size}`);
    this.values = new Float64Array(size);
    this.at = new Float64Array(size);
  }

  get full(): boolean {
    return this.pushed >= this.size;
  }

  /** The extreme of the last `size` values pushed (NaN before the first). */
  get value(): number {
    return this.length > 0 ? this.values[this.head]! : NaN;
  }

  push(x: number): void {
    const cap = this.size;
    const max = this.kind === 'max';
    while (this.length > 0) {
      const back = (this.head + this.length - 1) % cap;
      const v = this.values[back]!;
      if (max ? v <= x : v >= x) this.length -= 1;
      else break;
    }
    // Values pushed at or before `pushed - size` leave the window as this one enters.
    while (this.length > 0 && this.at[this.head]! <= this.pushed - cap) {
      this.head = (this.head + 1) % cap;
      this.length -= 1;
    }
    const slot = (this.head + this.length) % cap;
    this.values[slot] = x;
    this.at[slot] = this.pushed;
    this.length += 1;
    this.pushed += 1;
  }
}
