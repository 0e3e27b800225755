// The Electron smoke test (`npm run test:electron`): needs the Electron binary, so it is not part of
// `npm test` (vitest.config.ts excludes test/electron).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/electron/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./test/electron/global-setup.ts'],
    // One app at a time, on a shared machine: generous bounds.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
