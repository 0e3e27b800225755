/**
 * What every venue collector is to the collector program: started with a configuration and sinks,
 * paused and resumed by the supervisor, closed at stop, and measured by its stream statistics.
 */
import type { CollectorConfig } from '../../shared/collector-config';
import type { MarketRecorder } from './recorder';
import type { StreamStats } from './stream-stats';

export interface CollectorSinks {
  publish(subject: string, data: unknown): void;
  recorder: MarketRecorder | null;
  health(health: 'healthy' | 'degraded', message: string): void;
  log(line: string): void;
}

export interface VenueCollector {
  readonly config: CollectorConfig;
  readonly stats: StreamStats;
  start(): void;
  /** Resolves true once every connection is open and subscribed, false after `timeoutMs`. */
  whenSubscribed(timeoutMs: number): Promise<boolean>;
  /** Stops publishing and recording (connections and books stay live, so resuming is instant). */
  pause(): void;
  resume(): void;
  /** Closes connections and pollers; gaps still open end now. */
  close(): Promise<void>;
}
