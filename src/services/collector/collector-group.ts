/**
 * The venues one collector process carries, run as one: usually a single venue (its figures named as
 * they always were, `BTCUSDT.trade.msgPerSec`), or several, each figure then named after its venue
 * (`binance-spot:BTCUSDT.trade.msgPerSec`, see collector-streams.ts) so equal symbols on two venues
 * stay apart. Health is the worst of the venues', each venue's problem named.
 */
import type { CollectorConfig } from '../../shared/collector-config';
import { venueKey, type CollectorHeartbeat } from '../../shared/collector-streams';
import type { CollectorSinks, VenueCollector } from './collector';
import type { MarketRecorder } from './recorder';

export interface CollectorGroupDeps {
  createCollector(config: CollectorConfig, sinks: CollectorSinks): VenueCollector;
  /** The venue's recorder when its configuration records, else null. */
  openRecorder(config: CollectorConfig): MarketRecorder | null;
  publish(subject: string, data: unknown): void;
  health(health: 'healthy' | 'degraded', message: string): void;
  log(line: string): void;
}

interface Member {
  config: CollectorConfig;
  collector: VenueCollector;
  recorder: MarketRecorder | null;
}

type Health = { health: 'healthy' | 'degraded'; message: string };

export class CollectorGroup {
  private readonly members: Member[] = [];
  private readonly health = new Map<string, Health>();
  private readonly grouped: boolean;

  constructor(
    configs: readonly CollectorConfig[],
    private readonly deps: CollectorGroupDeps,
  ) {
    this.grouped = configs.length > 1;
    try {
      for (const config of configs) {
        const recorder = deps.openRecorder(config);
        try {
          const collector = deps.createCollector(config, {
            publish: deps.publish,
            recorder,
            health: (health, message) => {
              this.health.set(config.venue, { health, message });
              this.reportHealth();
            },
            log: (line) => deps.log(this.grouped ? `${config.venue}: ${line}` : line),
          });
          this.members.push({ config, collector, recorder });
        } catch (error) {
          recorder?.close();
          throw error;
        }
      }
    } catch (error) {
      for (const m of this.members) m.recorder?.close();
      throw error;
    }
  }

  get venues(): CollectorConfig['venue'][] {
    return this.members.map((m) => m.config.venue);
  }

  /** Starts every venue; resolves with whether all subscribed within `timeoutMs`, and the ready detail. */
  async start(timeoutMs: number): Promise<{ subscribed: boolean; notSubscribed: string[]; detail: unknown }> {
    for (const m of this.members) m.collector.start();
    const results = await Promise.all(this.members.map((m) => m.collector.whenSubscribed(timeoutMs)));
    const notSubscribed = this.members.filter((_, i) => !results[i]).map((m) => m.config.endpoints.ws);
    const details = this.members.map(({ config }) => ({
      venue: config.venue,
      symbols: config.symbols,
      types: config.types,
      simulated: config.simulated,
      recording: config.record,
      endpoints: config.endpoints,
    }));
    const detail = this.grouped
      ? { venues: details, simulated: details.some((d) => d.simulated) }
      : details[0];
    return { subscribed: notSubscribed.length === 0, notSubscribed, detail };
  }

  /** The 1 Hz metrics of every venue, plus the total rate over all of them when there are several. */
  metrics(): Record<string, number> {
    if (!this.grouped) {
      const m = this.members[0];
      return m ? { ...m.collector.stats.report(), ...recorderMetrics(m.recorder) } : {};
    }
    const out: Record<string, number> = {};
    let total = 0;
    for (const m of this.members) {
      const figures = { ...m.collector.stats.report(), ...recorderMetrics(m.recorder) };
      total += figures.msgPerSec ?? 0;
      for (const [k, v] of Object.entries(figures)) out[venueKey(m.config.venue, k)] = v;
    }
    out.msgPerSec = total;
    return out;
  }

  heartbeat(): CollectorHeartbeat {
    const out: CollectorHeartbeat = { freshnessMs: {}, messages: {}, latency: {} };
    for (const m of this.members) {
      const beat = m.collector.stats.heartbeat();
      const name = (k: string): string => (this.grouped ? venueKey(m.config.venue, k) : k);
      for (const [k, v] of Object.entries(beat.freshnessMs)) out.freshnessMs[name(k)] = v;
      for (const [k, v] of Object.entries(beat.messages)) out.messages[name(k)] = v;
      for (const [k, v] of Object.entries(beat.latency)) out.latency[name(k)] = v;
    }
    return out;
  }

  pause(): void {
    for (const m of this.members) m.collector.pause();
  }

  resume(): void {
    for (const m of this.members) m.collector.resume();
  }

  /** Closes every venue, then its recorder; returns the records that could not be written. */
  async close(): Promise<{ unwritten: number }> {
    await Promise.all(this.members.map((m) => m.collector.close()));
    let unwritten = 0;
    for (const m of this.members) unwritten += m.recorder?.close().unwritten ?? 0;
    return { unwritten };
  }

  private reportHealth(): void {
    if (!this.grouped) {
      const h = [...this.health.values()][0];
      if (h) this.deps.health(h.health, h.message);
      return;
    }
    const degraded = [...this.health].filter(([, h]) => h.health === 'degraded');
    if (degraded.length === 0) {
      this.deps.health('healthy', 'all streams live');
      return;
    }
    const message = degraded.map(([venue, h]) => `${venue}: ${h.message}`).join('; ');
    this.deps.health('degraded', message.slice(0, 500));
  }
}

function recorderMetrics(recorder: MarketRecorder | null): Record<string, number> {
  if (!recorder) return {};
  const s = recorder.stats();
  return { 'record.queue': s.queue, 'record.maxFlushMs': s.maxFlushMs, 'record.dbBytes': s.dbBytes };
}
