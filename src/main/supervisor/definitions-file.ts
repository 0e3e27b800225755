/**
 * Service definitions on disk (services.json in the data directory) until the SQLite store lands.
 * Every write is atomic; a file that fails validation is moved aside, reported, and never wiped.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { z } from 'zod';
import { serviceDefinitionSchema, type ServiceDefinition } from '../../shared/service-definition';
import { writeFileAtomically } from './atomic-file';

const fileSchema = z.object({ version: z.literal(1), services: z.array(serviceDefinitionSchema) });

export class DefinitionsFile {
  constructor(
    readonly path: string,
    private readonly warn: (message: string) => void = console.warn,
  ) {}

  /** The saved definitions, or null when there is no usable file (then the defaults apply). */
  load(): ServiceDefinition[] | null {
    if (!existsSync(this.path)) return null;
    let problem: string;
    try {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (parsed.success) return parsed.data.services;
      const issue = parsed.error.issues[0];
      problem = `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    const aside = `${this.path}.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.path, aside);
    this.warn(
      `service definitions in ${this.path} are invalid (${problem}); moved to ${aside}, starting from defaults`,
    );
    return null;
  }

  save(definitions: ServiceDefinition[]): void {
    writeFileAtomically(this.path, `${JSON.stringify({ version: 1, services: definitions }, null, 2)}\n`);
  }
}
