import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineProject } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Integration tests run inside workerd (miniflare) with real D1, R2, Queues and Durable Objects.
export default defineProject({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: here('./wrangler.toml') },
      miniflare: {
        bindings: { TEST_MIGRATIONS: await readD1Migrations(here('../../migrations')) },
      },
    })),
  ],
  test: {
    name: 'integration',
    include: [here('./**/*.test.ts')],
    setupFiles: [here('./apply-migrations.ts')],
    globalSetup: [here('./global-setup.ts')],
    testTimeout: 60_000,
  },
});
