/** The whole configuration as one document (export, import, dry-run). */
import type { ServiceDefinition } from './service-definition';
import type { Settings } from './settings';

export interface VigilConfig {
  version: 1;
  services: ServiceDefinition[];
  settings: Settings;
}

export interface ConfigChange {
  kind: 'add' | 'remove' | 'change';
  /** e.g. services.collector-okx.restart.backoff.capMs, settings.retention.rawHours */
  path: string;
  before?: unknown;
  after?: unknown;
}
