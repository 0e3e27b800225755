/**
 * The whole configuration — service definitions and settings — as one thing a person can export,
 * import (after a dry run that lists every change) and adjust. An import with any error changes nothing.
 */
import type { ConfigChange, VigilConfig } from '../../shared/config';
import { ApiError } from '../../shared/errors';
import { applySettingsPatch, settingsSchema, type Settings, type SettingsPatch } from '../../shared/settings';
import type { ConfigRepository } from '../store/config-repository';
import { diffConfig, exportConfig, parseConfig } from '../store/config-transfer';
import type { Supervisor } from '../supervisor/supervisor';
import type { EventHub } from './event-hub';

export class ConfigService {
  private current: Settings;

  constructor(
    private readonly repo: ConfigRepository,
    private readonly supervisor: Supervisor,
    private readonly events: EventHub,
    /** Puts changed settings into effect (retention, sampling). */
    private readonly apply: (settings: Settings) => void,
  ) {
    this.current = loadSettings(repo);
  }

  settings(): Settings {
    return this.current;
  }

  export(format: 'json' | 'yaml'): { format: 'json' | 'yaml'; text: string } {
    return { format, text: exportConfig(this.document(), format) };
  }

  import(
    text: string,
    format: 'json' | 'yaml' | undefined,
    dryRun: boolean,
  ): { applied: boolean; changes: ConfigChange[] } {
    const parsed = parseConfig(text, format);
    if (!parsed.ok) {
      const { message, field } = parsed.error;
      throw new ApiError('invalid_input', `text: ${message}`, field ? `text.${field}` : 'text');
    }
    const incoming = parsed.config;
    const changes = diffConfig(this.document(), incoming);
    if (dryRun || changes.length === 0) return { applied: false, changes };
    this.supervisor.replaceDefinitions(incoming.services, () =>
      this.repo.replaceAll(incoming.services, { ...incoming.settings }),
    );
    this.setCurrent(incoming.settings);
    return { applied: true, changes };
  }

  updateSettings(patch: SettingsPatch): Settings {
    const r = applySettingsPatch(this.current, patch);
    if (!r.ok) throw new ApiError(r.error.code, r.error.message, r.error.field);
    for (const [key, value] of Object.entries(r.settings)) this.repo.setSetting(key, value);
    this.setCurrent(r.settings);
    return r.settings;
  }

  private setCurrent(settings: Settings): void {
    this.current = settings;
    this.apply(settings);
    this.events.emit('config.changed', { services: this.supervisor.list().length, settings });
  }

  private document(): VigilConfig {
    return { version: 1, services: this.supervisor.list().map((i) => i.definition), settings: this.current };
  }
}

/** Stored settings over the defaults; a stored value that no longer validates falls back, loudly. */
export function loadSettings(repo: ConfigRepository): Settings {
  const parsed = settingsSchema.safeParse(repo.allSettings());
  if (parsed.success) return parsed.data;
  console.warn(`stored settings are invalid (${parsed.error.issues[0]?.message}); using defaults`);
  return settingsSchema.parse({});
}
