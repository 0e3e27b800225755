/**
 * Service definitions and settings in control.db. Every change is its own committed transaction
 * (synchronous=FULL): when a method returns, the change survives a crash or a power cut. Definitions
 * are validated on the way in and again on the way out; a row that no longer validates is reported
 * and kept, never silently dropped.
 */
import type { Database, Statement } from 'better-sqlite3';
import { serviceDefinitionSchema, type ServiceDefinition } from '../../shared/service-definition';
import { META, MetaTable } from './meta';

/** A stored row that cannot be used as it is; the row stays in the file until it is saved or removed. */
export class InvalidRowError extends Error {
  override readonly name = 'InvalidRowError';

  constructor(
    readonly file: string,
    readonly table: 'services' | 'settings',
    readonly key: string,
    readonly problem: string,
  ) {
    super(
      `${file}: ${table} row "${key}" is not valid (${problem}); it is kept but not used. ` +
        (table === 'services'
          ? 'Save the service again to replace it, or remove it.'
          : 'Set the setting again to replace it.'),
    );
  }
}

export interface ConfigRepositoryOptions {
  /** Where invalid rows are reported (once per row version); default console.warn. */
  warn?: (message: string) => void;
  /** Stamps updated_at (epoch ms). */
  now?: () => number;
}

interface ServiceRow {
  name: string;
  definition: string;
  updated_at: number;
}

export class ConfigRepository {
  private readonly file: string;
  private readonly meta: MetaTable;
  private readonly warn: (message: string) => void;
  private readonly now: () => number;
  private readonly reported = new Set<string>();
  private readonly stmts: {
    list: Statement<[], ServiceRow>;
    upsert: Statement<{ name: string; definition: string; at: number }>;
    remove: Statement<[string]>;
    clearServices: Statement<[]>;
    insertService: Statement<[string, number, string, number]>;
    getSetting: Statement<[string], string>;
    setSetting: Statement<[string, string]>;
    removeSetting: Statement<[string]>;
    allSettings: Statement<[], { key: string; value: string }>;
    clearSettings: Statement<[]>;
  };

  constructor(
    private readonly db: Database,
    opts: ConfigRepositoryOptions = {},
  ) {
    this.file = db.name;
    this.meta = new MetaTable(db);
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.now = opts.now ?? Date.now;
    this.stmts = {
      list: db.prepare('SELECT name, definition, updated_at FROM services ORDER BY position, name'),
      // A new service goes last; an existing one keeps its place.
      upsert: db.prepare(`
        INSERT INTO services (name, position, definition, updated_at)
        VALUES (:name, (SELECT coalesce(max(position), -1) + 1 FROM services), :definition, :at)
        ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`),
      remove: db.prepare('DELETE FROM services WHERE name = ?'),
      clearServices: db.prepare('DELETE FROM services'),
      insertService: db.prepare(
        'INSERT INTO services (name, position, definition, updated_at) VALUES (?, ?, ?, ?)',
      ),
      getSetting: db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck(),
      setSetting: db.prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      removeSetting: db.prepare('DELETE FROM settings WHERE key = ?'),
      allSettings: db.prepare('SELECT key, value FROM settings ORDER BY key'),
      clearSettings: db.prepare('DELETE FROM settings'),
    };
  }

  /** The valid definitions, in their saved order. Invalid rows: see `invalidServices()`. */
  listServices(): ServiceDefinition[] {
    return this.readServices().definitions;
  }

  /** Rows that no longer validate (e.g. written by hand, or by a Vigil with other rules). */
  invalidServices(): InvalidRowError[] {
    return this.readServices().invalid;
  }

  putService(def: ServiceDefinition): void {
    const valid = this.validate(def);
    this.db.transaction(() => {
      this.stmts.upsert.run({ name: valid.name, definition: JSON.stringify(valid), at: this.now() });
      this.meta.set(META.servicesWritten, 1);
    })();
  }

  removeService(name: string): void {
    this.stmts.remove.run(name);
  }

  /** An import: every definition and setting replaced in one transaction, whole or not at all. */
  replaceAll(defs: ServiceDefinition[], settings: Record<string, unknown>): void {
    const valid = defs.map((d) => this.validate(d));
    const names = new Set<string>();
    for (const d of valid) {
      if (names.has(d.name)) throw new Error(`the import names the service "${d.name}" twice`);
      names.add(d.name);
    }
    const entries = Object.entries(settings).filter(([, v]) => v !== undefined);
    const encoded = entries.map(([k, v]) => [k, encode(k, v)] as const);
    const at = this.now();
    this.db.transaction(() => {
      this.stmts.clearServices.run();
      valid.forEach((d, i) => this.stmts.insertService.run(d.name, i, JSON.stringify(d), at));
      this.stmts.clearSettings.run();
      for (const [k, v] of encoded) this.stmts.setSetting.run(k, v);
      this.meta.set(META.servicesWritten, 1);
    })();
  }

  getSetting<T>(key: string): T | undefined {
    const raw = this.stmts.getSetting.get(key);
    return raw === undefined ? undefined : (this.decode(key, raw) as T | undefined);
  }

  /** `undefined` removes the setting. */
  setSetting(key: string, value: unknown): void {
    if (value === undefined) this.stmts.removeSetting.run(key);
    else this.stmts.setSetting.run(key, encode(key, value));
  }

  allSettings(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const { key, value } of this.stmts.allSettings.all()) {
      const decoded = this.decode(key, value);
      if (decoded !== undefined) out[key] = decoded;
    }
    return out;
  }

  /** True until the first services row is written: the first run, when the defaults apply. */
  isFresh(): boolean {
    return !this.meta.has(META.servicesWritten);
  }

  private readServices(): { definitions: ServiceDefinition[]; invalid: InvalidRowError[] } {
    const definitions: ServiceDefinition[] = [];
    const invalid: InvalidRowError[] = [];
    for (const row of this.stmts.list.all()) {
      let problem: string;
      try {
        const parsed = serviceDefinitionSchema.safeParse(JSON.parse(row.definition));
        if (parsed.success && parsed.data.name === row.name) {
          definitions.push(parsed.data);
          continue;
        }
        const issue = parsed.error?.issues[0];
        problem = issue
          ? `${issue.path.join('.') || 'definition'}: ${issue.message}`
          : `its definition is named "${(parsed.data as ServiceDefinition).name}"`;
      } catch (error) {
        problem = `not JSON: ${(error as Error).message}`;
      }
      const e = new InvalidRowError(this.file, 'services', row.name, problem);
      invalid.push(e);
      this.reportOnce(`services\0${row.name}\0${row.updated_at}`, e);
    }
    return { definitions, invalid };
  }

  private decode(key: string, raw: string): unknown {
    try {
      return JSON.parse(raw) as unknown;
    } catch (error) {
      this.reportOnce(
        `settings\0${key}\0${raw}`,
        new InvalidRowError(this.file, 'settings', key, `not JSON: ${(error as Error).message}`),
      );
      return undefined;
    }
  }

  private reportOnce(id: string, error: InvalidRowError): void {
    if (this.reported.has(id)) return;
    this.reported.add(id);
    this.warn(error.message);
  }

  private validate(def: ServiceDefinition): ServiceDefinition {
    const parsed = serviceDefinitionSchema.safeParse(def);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new Error(
      `service "${String((def as { name?: unknown }).name)}" is not a valid definition ` +
        `(${issue?.path.join('.') || 'definition'}: ${issue?.message ?? 'invalid'})`,
    );
  }
}

function encode(key: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new Error(`setting "${key}" cannot be stored as JSON`);
  return json;
}
