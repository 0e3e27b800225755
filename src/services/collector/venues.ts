/** The collector of a configuration's venue. */
import type { CollectorConfig } from '../../shared/collector-config';
import { BinanceCollector } from './binance/binance-collector';
import type { CollectorSinks, VenueCollector } from './collector';
import { DeribitCollector } from './deribit/deribit-collector';
import { OkxCollector } from './okx/okx-collector';

export function createVenueCollector(config: CollectorConfig, sinks: CollectorSinks): VenueCollector {
  switch (config.venue) {
    case 'binance-spot':
    case 'binance-usdm':
      return new BinanceCollector({ ...config, venue: config.venue }, sinks);
    case 'okx-spot':
    case 'okx-swap':
      return new OkxCollector({ ...config, venue: config.venue }, sinks);
    case 'deribit':
      return new DeribitCollector({ ...config, venue: config.venue }, sinks);
  }
}
