/** Failures in a sliding time window (OTP intensity/period), not "since creation" as PM2 counts. */
export class FailureWindow {
  private times: number[] = [];

  /** Records a failure at `at`; returns how many fall inside the window ending then. */
  record(at: number, windowMs: number): number {
    this.times.push(at);
    return this.count(at, windowMs);
  }

  count(at: number, windowMs: number): number {
    // A clock that jumps backwards must not make old failures count forever: drop anything "future".
    this.times = this.times.filter((t) => t > at - windowMs && t <= at);
    return this.times.length;
  }

  clear(): void {
    this.times = [];
  }
}
