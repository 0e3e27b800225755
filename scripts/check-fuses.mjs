// Checklist item 19, after packaging: reads the fuse wire of a packaged app and compares every fuse
// with electronFuses in electron-builder.yml. Fails on any difference or a fuse it cannot find.
// Usage: node scripts/check-fuses.mjs <the app: dist/linux-unpacked/vigil, dist/win-unpacked/Vigil.exe,
//        dist/mac-arm64/Vigil.app, ...>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'yaml';

const app = process.argv[2];
if (!app) {
  console.error('usage: node scripts/check-fuses.mjs <packaged app or its executable>');
  process.exit(2);
}
const root = join(import.meta.dirname, '..');
const wanted = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')).electronFuses;

// The @electron/fuses that electron-builder flips the fuses with.
const builderLib = createRequire(
  createRequire(join(root, 'package.json')).resolve('app-builder-lib/package.json'),
);
const { getCurrentFuseWire, FuseV1Options } = builderLib('@electron/fuses');
const STATES = { 48: false, 49: true, 114: 'removed' }; // '0', '1', 'r'

const wire = await getCurrentFuseWire(app);
const problems = [];
for (const [key, want] of Object.entries(wanted)) {
  if (key === 'resetAdHocDarwinSignature') continue; // a packaging step, not a fuse
  const name = key[0].toUpperCase() + key.slice(1);
  const index = FuseV1Options[name];
  const have = index === undefined ? undefined : STATES[wire[index]];
  console.log(`${name.padEnd(40)} ${have === undefined ? 'not in this Electron' : have ? 'on' : 'off'}`);
  if (have !== want) problems.push(`${name}: expected ${want ? 'on' : 'off'}, found ${have ?? 'nothing'}`);
}
if (problems.length > 0) {
  console.error(`\n${app}: fuses differ from electron-builder.yml:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`\n${app}: every fuse as electron-builder.yml sets it.`);
