import { defineConfig } from 'vitest/config';

// Three layers: fast Node unit tests of shared/, integration tests inside workerd
// (its own config, because the Cloudflare plugin replaces the runner), and end-to-end
// tests that start real processes (CLI, wrangler dev, sim-policy, Chromium).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      './test/integration/vitest.config.ts',
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 240_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
