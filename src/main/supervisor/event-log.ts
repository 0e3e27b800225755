/**
 * The supervisor's own record of what happened to services (state transitions with reasons), one
 * JSON object per line in a size-rotated file. Like the service logs it never blocks or throws: an
 * event that cannot be written is counted in `dropped`.
 */
import { RotatingFile } from './rotating-file';

export class SupervisorEventLog {
  private readonly file: RotatingFile;
  private droppedEvents = 0;

  constructor(path: string, opts: { maxFileBytes?: number; maxFiles?: number } = {}) {
    this.file = new RotatingFile(path, {
      ...opts,
      onFailure: (_error, lost) => (this.droppedEvents += lost),
    });
  }

  /** Events that were lost (disk failing, or the supervisor producing them faster than the disk). */
  get dropped(): number {
    return this.droppedEvents;
  }

  /** Appends `{"time": "<ISO>", ...event}` as one line. */
  append(event: object): void {
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), ...event });
    } catch (error) {
      // A cycle or a BigInt in an event must not lose the fact that something happened.
      line = JSON.stringify({ time: new Date().toISOString(), unserializable: String(error) });
    }
    if (!this.file.write(`${line}\n`)) this.droppedEvents += 1;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
