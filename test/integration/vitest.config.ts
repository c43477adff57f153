import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';
import { buildDashboard, writeDashboard } from '../../dashboard/build';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Integration tests run inside workerd (miniflare) with real D1, R2, Queues and Durable Objects.
export default defineProject({
  plugins: [
    cloudflareTest(async () => {
      // The gateway's static assets (wrangler.toml `[assets]`): built before miniflare reads them;
      // TEST_DASHBOARD_FILES is that build's output, which dashboard.test.ts expects to be served.
      const dashboard = await buildDashboard();
      writeDashboard(dashboard);
      return {
        wrangler: { configPath: here('./wrangler.toml') },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations(here('../../migrations')),
            TEST_DASHBOARD_FILES: Object.fromEntries(dashboard),
          },
        },
      };
    }),
  ],
  test: {
    name: 'integration',
    include: [here('./**/*.test.ts')],
    setupFiles: [here('./apply-migrations.ts')],
    globalSetup: [here('./global-setup.ts')],
    testTimeout: 60_000,
  },
});
