import { defineConfig } from 'drizzle-kit';

// Migrations are generated into wrangler's flat layout (migrations/NNNN_name.sql) so that
// `wrangler d1 migrations apply` and readD1Migrations() in tests read the same files.
export default defineConfig({
  dialect: 'sqlite',
  schema: './shared/db/schema.ts',
  out: './migrations',
  migrations: { prefix: 'index' },
});
