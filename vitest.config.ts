import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Electron smoke test needs the Electron binary: `npm run test:electron` (vitest.electron.config.ts).
    exclude: [...configDefaults.exclude, 'test/electron/**'],
    environment: 'node',
    // Real processes, sockets and a real browser: generous bounds on a shared, noisy 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
