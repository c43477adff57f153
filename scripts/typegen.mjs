// Generates the committed Workers types: one runtime declaration for all workers, and one Env
// interface per worker (GatewayEnv, CoordinatorEnv, ...) so they can share one tsconfig.
// `npm run cf-typegen -- --check` fails when a committed file is out of date.
import { execFileSync } from 'node:child_process';

const check = process.argv.includes('--check');
const workers = [
  ['gateway', 'wrangler.toml', 'GatewayEnv'],
  ['coordinator', 'workers/coordinator/wrangler.toml', 'CoordinatorEnv'],
  ['expander', 'workers/expander/wrangler.toml', 'ExpanderEnv'],
  ['critic', 'workers/critic/wrangler.toml', 'CriticEnv'],
  ['splicer', 'workers/splicer/wrangler.toml', 'SplicerEnv'],
];
const run = (args) =>
  execFileSync('npx', ['wrangler', 'types', ...args, ...(check ? ['--check'] : [])], {
    stdio: 'inherit',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
run(['-c', 'wrangler.toml', '--include-env=false', 'workers/runtime.d.ts']);
for (const [name, config, iface] of workers) {
  run([
    '-c',
    config,
    '--include-runtime=false',
    '--env-interface',
    iface,
    `workers/${name}/worker-configuration.d.ts`,
  ]);
}
