/** What the supervisor (and the UI) sees of the market-data bus: throttled samples, never the stream. */
export interface BusSample {
  service: string;
  /** The window the counts cover, epoch ms. */
  from: number;
  to: number;
  /** Messages per subject in the window. */
  counts: Record<string, number>;
  /** The last message on each subject. */
  last: Record<string, unknown>;
}

export const SAMPLE_SUBJECT_PREFIX = 'vigil.sample';
