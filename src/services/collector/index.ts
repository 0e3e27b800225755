/**
 * collector: one supervised child per venue-market (VIGIL_CONFIG names the venue, symbols, data types
 * and endpoints). Ready once its streams are subscribed, or after 10 s regardless, degraded, so an
 * exchange that is away never becomes a restart loop; heartbeats carry per-stream freshness, metrics
 * every second carry rates, latency, gaps and resyncs.
 */
import { collectorVenues, parseCollectorConfig, type CollectorConfig } from '../../shared/collector-config';
import { EXIT_CONFIG_ERROR } from '../../shared/child-protocol';
import { startChild } from '../sdk';
import type { VenueCollector } from './collector';
import { MarketRecorder } from './recorder';
import { createVenueCollector } from './venues';

const SUBSCRIBE_WAIT_MS = 10_000;

let collector: VenueCollector | null = null;
let recorder: MarketRecorder | null = null;

const child = startChild({
  metrics: () => (collector ? { ...collector.stats.report(), ...recorderMetrics() } : {}),
  heartbeatPayload: () => (collector ? { freshnessMs: collector.stats.freshness() } : {}),
  onPause: () => collector?.pause(),
  onResume: () => collector?.resume(),
  onReload: async (raw) => {
    const config = parse(raw);
    if (!config) throw new Error('the new configuration is invalid (see the log); keeping the current one');
    await stopCollecting();
    await startCollecting(config);
  },
  onStop: () => stopCollecting(),
});

function parse(raw: unknown): CollectorConfig | null {
  if (raw === null || raw === undefined) {
    console.error(
      `collector: no configuration: the service definition needs config.venue (${collectorVenues.join(', ')})`,
    );
    return null;
  }
  const r = parseCollectorConfig(raw);
  if (!r.ok) {
    console.error(`collector: configuration ${r.path.join('.') || 'config'}: ${r.error}`);
    return null;
  }
  return r.config;
}

function recorderMetrics(): Record<string, number> {
  if (!recorder) return {};
  const s = recorder.stats();
  return { 'record.queue': s.queue, 'record.maxFlushMs': s.maxFlushMs, 'record.dbBytes': s.dbBytes };
}

async function startCollecting(config: CollectorConfig): Promise<void> {
  if (config.record) {
    if (!child.dataDir) throw new Error('recording needs a data directory (VIGIL_DATA_DIR)');
    recorder = MarketRecorder.open({
      dataDir: child.dataDir,
      venue: config.venue,
      retentionDays: config.retentionDays,
      onError: (error) => console.error(`collector: recording: ${error.message}`),
    });
  }
  const bus = await child.bus().catch((error: unknown) => {
    console.error(`collector: no bus, publishing nothing: ${String(error)}`);
    return null;
  });
  collector = createVenueCollector(config, {
    publish: (subject, data) => {
      try {
        bus?.publish(subject, data);
      } catch (error) {
        console.error(`collector: publish ${subject}: ${String(error)}`);
      }
    },
    recorder,
    health: (health, message) => child.status(health, message),
    log: (line) => console.log(line),
  });
  collector.start();
  const subscribed = await collector.whenSubscribed(SUBSCRIBE_WAIT_MS);
  const detail = {
    venue: config.venue,
    symbols: config.symbols,
    types: config.types,
    simulated: config.simulated,
    recording: config.record,
    endpoints: config.endpoints,
  };
  child.ready(detail);
  if (!subscribed) child.status('degraded', `cannot reach ${config.endpoints.ws} yet; retrying`);
}

async function stopCollecting(): Promise<void> {
  await collector?.close();
  collector = null;
  const r = recorder;
  recorder = null;
  if (r) {
    const { unwritten } = r.close();
    if (unwritten > 0) console.error(`collector: ${unwritten} records could not be written at stop`);
  }
}

const config = parse(child.config);
if (!config) process.exit(EXIT_CONFIG_ERROR);
startCollecting(config).catch((error: unknown) => {
  console.error(`collector: could not start: ${String(error)}`);
  process.exit(1);
});
