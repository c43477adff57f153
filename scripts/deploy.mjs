// Deploys every worker in dependency order: the Durable Objects (coordinator) first, because the
// others bind to its classes, then the queue consumers, then the gateway.
import { execFileSync } from 'node:child_process';

// The gateway's static assets (wrangler.toml `[assets]`): the dashboard build, not committed.
execFileSync('npx', ['tsx', 'dashboard/build.ts'], { stdio: 'inherit' });

const configs = [
  'workers/coordinator/wrangler.toml',
  'workers/expander/wrangler.toml',
  'workers/critic/wrangler.toml',
  'workers/splicer/wrangler.toml',
  'wrangler.toml',
];
for (const config of configs) {
  console.log(`\n== wrangler deploy -c ${config}`);
  execFileSync('npx', ['wrangler', 'deploy', '-c', config, ...process.argv.slice(2)], { stdio: 'inherit' });
}
