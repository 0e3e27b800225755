// Builds better-sqlite3 for Electron's ABI into native/electron/better_sqlite3.node, where the app
// loads it from (src/services/sqlite/native-binding.ts). The Node build in node_modules, which tests and
// headless use, is left untouched: the sources are copied and built in a temporary folder.
//
// Needs: network access to Electron's headers (https://electronjs.org/headers), Python 3 and a C++
// toolchain (node-gyp's usual requirements). Run on a machine that has them, then ship native/.
//   npm run rebuild:electron   (node scripts/build-electron-sqlite.mjs [--arch=x64|arm64])
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const DIST_URL = 'https://electronjs.org/headers';
const root = resolve(import.meta.dirname, '..');
const require = createRequire(join(root, 'package.json'));
const outDir = join(root, 'native', 'electron');

function fail(message) {
  console.error(`\nbuild-electron-sqlite: ${message}\n`);
  process.exit(1);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = pkg.optionalDependencies?.electron;
if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
  fail(
    `package.json optionalDependencies.electron must be an exact version (found ${JSON.stringify(version)}).`,
  );
}
const arch = process.argv.find((a) => a.startsWith('--arch='))?.slice('--arch='.length) ?? process.arch;

// 1. Fail fast, in words, when Electron's headers cannot be downloaded (node-gyp would print a stack).
const headersUrl = `${DIST_URL}/v${version}/node-v${version}-headers.tar.gz`;
try {
  const res = await fetch(headersUrl, {
    method: 'HEAD',
    redirect: 'follow',
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok)
    fail(
      `Electron ${version}'s headers are not at ${headersUrl} (HTTP ${res.status}). Is the version right?`,
    );
} catch (error) {
  const why = error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(error);
  fail(
    `cannot download Electron ${version}'s headers from ${headersUrl} (${why}).\n` +
      'This build needs network access to electronjs.org. Run it on a machine that has it, then copy\n' +
      `the resulting ${join('native', 'electron')} folder into this checkout. Tests and headless do not need it.`,
  );
}

// 2. node-gyp: the project's copy (a dependency of electron-builder), else the one bundled with npm.
function findNodeGyp() {
  try {
    return join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
  } catch {
    const bundled = join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    );
    if (existsSync(bundled)) return bundled;
    return fail('node-gyp was not found: run `npm install` first.');
  }
}
const nodeGyp = findNodeGyp();

// 3. Build a copy of better-sqlite3's sources (binding.gyp, src/, deps/) for Electron.
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
const sqliteVersion = JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')).version;
const work = mkdtempSync(join(tmpdir(), 'vigil-electron-sqlite-'));
try {
  for (const entry of ['binding.gyp', 'src', 'deps', 'package.json']) {
    cpSync(join(sqliteDir, entry), join(work, entry), { recursive: true });
  }
  console.log(
    `Building better-sqlite3 ${sqliteVersion} for Electron ${version} (${process.platform}-${arch})…`,
  );
  const args = [
    nodeGyp,
    'rebuild',
    '--release',
    `--target=${version}`,
    `--arch=${arch}`,
    `--dist-url=${DIST_URL}`,
    '--runtime=electron',
    '--build-from-source',
    `--devdir=${join(homedir(), '.electron-gyp')}`,
  ];
  const r = spawnSync(process.execPath, args, { cwd: work, stdio: 'inherit' });
  if (r.status !== 0) {
    fail(
      `node-gyp failed (exit ${r.status ?? r.signal}). It needs Python 3 and a C++ compiler ` +
        '(Xcode command line tools, Visual Studio Build Tools, or build-essential); see the output above.',
    );
  }
  const built = join(work, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) fail(`node-gyp reported success but ${built} is missing.`);
  mkdirSync(outDir, { recursive: true });
  cpSync(built, join(outDir, 'better_sqlite3.node'));
  // What this file is, for whoever wonders why it does not load.
  writeFileSync(
    join(outDir, 'build-info.json'),
    `${JSON.stringify({ electron: version, betterSqlite3: sqliteVersion, platform: process.platform, arch, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
  console.log(`Wrote ${join(outDir, 'better_sqlite3.node')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
