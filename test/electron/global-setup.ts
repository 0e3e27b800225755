/**
 * Runs before any smoke test: without Electron, or without a build, the run fails at once with the
 * reason, instead of a launch timeout deep inside Playwright.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { electronBinary, repoRoot } from './electron-binary';

export default function setup(): void {
  electronBinary();
  const main = join(repoRoot, 'out', 'main', 'index.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first.`);
}
