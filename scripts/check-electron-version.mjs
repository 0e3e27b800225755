// Checklist item 16 (use a current version of Electron): Electron supports its latest three major
// lines, so the pinned version must be within two majors of the newest release. Asks the npm registry;
// run on CI (.github/workflows/desktop.yml), not in .ci/run, so that a new Electron release does not
// block unrelated work.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SUPPORTED_MAJORS = 3;
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
const pinned = pkg.optionalDependencies.electron;
const latest = execFileSync('npm', ['view', 'electron', 'version'], {
  encoding: 'utf8',
  shell: process.platform === 'win32',
}).trim();
const major = (version) => Number(version.split('.')[0]);
const behind = major(latest) - major(pinned);
if (behind >= SUPPORTED_MAJORS) {
  console.error(
    `Electron ${pinned} is ${behind} majors behind ${latest}: only the latest ${SUPPORTED_MAJORS} majors get security fixes. ` +
      'Update optionalDependencies.electron in package.json and electronVersion in electron-builder.yml.',
  );
  process.exit(1);
}
console.log(`Electron ${pinned}: supported (latest is ${latest}).`);
