import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const root = import.meta.dirname;
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  optionalDependencies: { electron: string };
};
// electron-vite reads Electron's version from node_modules/electron, which is absent where the binary
// cannot be downloaded; the pinned version says the same thing.
process.env.ELECTRON_MAJOR_VER ??= pkg.optionalDependencies.electron.split('.')[0];

/** Folders of src/services that are libraries the programs share, not programs. */
const SERVICE_LIBRARIES = new Set(['sdk', 'strategies']);

/** Every other folder in src/services with an index.ts is a child program. */
function servicePrograms(): Record<string, string> {
  const dir = resolve(root, 'src/services');
  const entries: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const entry = resolve(dir, name, 'index.ts');
    if (!SERVICE_LIBRARIES.has(name) && existsSync(entry)) entries[`services/${name}/index`] = entry;
  }
  return entries;
}

export default defineConfig({
  main: {
    build: {
      // The same bundle runs in Electron and, headless, under the machine's Node 20: target the older one.
      target: 'node20',
      outDir: resolve(root, 'out'),
      emptyOutDir: true,
      rolldownOptions: {
        input: {
          'main/index': resolve(root, 'src/main/index.ts'),
          'main/headless': resolve(root, 'src/main/headless.ts'),
          // The core's market read thread: a worker_threads script, loaded from out/main/ by path.
          'main/market-read-worker': resolve(root, 'src/main/api/market-read-worker.ts'),
          // The `vigil` command line (package.json bin), a client of the headless server.
          'cli/vigil': resolve(root, 'src/cli/vigil.ts'),
          ...servicePrograms(),
        },
        output: {
          entryFileNames: '[name].js',
          chunkFileNames: 'main/chunks/[name]-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      target: 'node20',
      // A sandboxed preload can require nothing but electron: bundle its dependencies (zod) into it.
      externalizeDeps: false,
      rolldownOptions: {
        // A sandboxed preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'src/renderer'),
    build: {
      outDir: resolve(root, 'out/renderer'),
      minify: true,
      rolldownOptions: { input: resolve(root, 'src/renderer/index.html') },
    },
    plugins: [react()],
  },
});
