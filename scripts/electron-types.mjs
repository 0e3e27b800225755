// Runs after `npm install`. Electron is an optional dependency: where its binary download is refused
// (CI, air-gapped servers) npm drops the package, and with it electron.d.ts. The shell must still
// typecheck there, so we unpack the same pinned version's typings (from the npm registry, no binary)
// into node_modules/.electron-types, which tsconfig uses only when node_modules/electron is absent.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = process.cwd();
const target = join(root, 'node_modules', '.electron-types');
if (existsSync(join(root, 'node_modules', 'electron', 'electron.d.ts'))) process.exit(0);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = pkg.optionalDependencies?.electron;
if (!version) process.exit(0);
if (existsSync(join(target, 'electron.d.ts'))) {
  const have = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')).version;
  if (have === version) process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'vigil-electron-types-'));
try {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const tarball = execFileSync(
    npm,
    ['pack', `electron@${version}`, '--silent', '--ignore-scripts', '--pack-destination', work],
    { encoding: 'utf8', shell: process.platform === 'win32' },
  )
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', [
    '-xzf',
    join(work, tarball),
    '-C',
    work,
    'package/electron.d.ts',
    'package/package.json',
  ]);
  mkdirSync(target, { recursive: true });
  copyFileSync(join(work, 'package', 'electron.d.ts'), join(target, 'electron.d.ts'));
  copyFileSync(join(work, 'package', 'package.json'), join(target, 'package.json'));
  console.log(`electron ${version}: binary not installed here; typings unpacked for the typecheck`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
