/**
 * collector: a supervised child collecting one venue-market (VIGIL_CONFIG names the venue, symbols,
 * data types and endpoints), or several in one process (`{ venues: [...] }`). Ready once its streams
 * are subscribed, or after 10 s regardless, degraded, so an exchange that is away never becomes a
 * restart loop; heartbeats carry per-stream freshness, message counts and latency histograms, metrics
 * every second carry rates, latency, gaps and resyncs.
 */
import { collectorVenues, parseCollectorConfigs, type CollectorConfig } from '../../shared/collector-config';
import { EXIT_CONFIG_ERROR } from '../../shared/child-protocol';
import { startChild } from '../sdk';
import { CollectorGroup } from './collector-group';
import { MarketRecorder } from './recorder';
import { createVenueCollector } from './venues';

const SUBSCRIBE_WAIT_MS = 10_000;

let group: CollectorGroup | null = null;

const child = startChild({
  metrics: () => group?.metrics() ?? {},
  heartbeatPayload: () => ({ ...group?.heartbeat() }),
  onPause: () => group?.pause(),
  onResume: () => group?.resume(),
  onReload: async (raw) => {
    const configs = parse(raw);
    if (!configs) throw new Error('the new configuration is invalid (see the log); keeping the current one');
    await stopCollecting();
    await startCollecting(configs);
  },
  onStop: () => stopCollecting(),
});

function parse(raw: unknown): CollectorConfig[] | null {
  if (raw === null || raw === undefined) {
    console.error(
      `collector: no configuration: the service definition needs config.venue (${collectorVenues.join(', ')})`,
    );
    return null;
  }
  const r = parseCollectorConfigs(raw);
  if (!r.ok) {
    console.error(`collector: configuration ${r.path.join('.') || 'config'}: ${r.error}`);
    return null;
  }
  return r.configs;
}

async function startCollecting(configs: CollectorConfig[]): Promise<void> {
  const bus = await child.bus().catch((error: unknown) => {
    console.error(`collector: no bus, publishing nothing: ${String(error)}`);
    return null;
  });
  group = new CollectorGroup(configs, {
    createCollector: createVenueCollector,
    openRecorder: (config) => {
      if (!config.record) return null;
      if (!child.dataDir) throw new Error('recording needs a data directory (VIGIL_DATA_DIR)');
      return MarketRecorder.open({
        dataDir: child.dataDir,
        venue: config.venue,
        retentionDays: config.retentionDays,
        onError: (error) => console.error(`collector: recording ${config.venue}: ${error.message}`),
      });
    },
    publish: (subject, data) => {
      try {
        bus?.publish(subject, data);
      } catch (error) {
        console.error(`collector: publish ${subject}: ${String(error)}`);
      }
    },
    health: (health, message) => child.status(health, message),
    log: (line) => console.log(line),
  });
  const started = await group.start(SUBSCRIBE_WAIT_MS);
  child.ready(started.detail);
  if (!started.subscribed)
    child.status('degraded', `cannot reach ${started.notSubscribed.join(', ')} yet; retrying`);
}

async function stopCollecting(): Promise<void> {
  const g = group;
  group = null;
  if (!g) return;
  const { unwritten } = await g.close();
  if (unwritten > 0) console.error(`collector: ${unwritten} records could not be written at stop`);
}

const configs = parse(child.config);
if (!configs) process.exit(EXIT_CONFIG_ERROR);
startCollecting(configs).catch((error: unknown) => {
  console.error(`collector: could not start: ${String(error)}`);
  process.exit(1);
});
