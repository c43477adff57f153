// Generates the committed Workers types: one runtime declaration for all workers, and one Env
// interface per worker (GatewayEnv, CoordinatorEnv, ...) so they can share one tsconfig.
// `npm run cf-typegen -- --check` (part of `npm test`) fails when a committed file differs from
// what wrangler generates now. It regenerates each file beside the committed one (the header and
// the module paths depend on the location) under a temporary name and compares the text:
// wrangler 4.86's own `types --check` only compares the config hash in the file's header, so it
// passes a hand-edited file.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const check = process.argv.includes('--check');
const outputs = [
  ['workers/runtime.d.ts', ['-c', 'wrangler.toml', '--include-env=false']],
  ...[
    ['gateway', 'wrangler.toml', 'GatewayEnv'],
    ['coordinator', 'workers/coordinator/wrangler.toml', 'CoordinatorEnv'],
    ['expander', 'workers/expander/wrangler.toml', 'ExpanderEnv'],
    ['critic', 'workers/critic/wrangler.toml', 'CriticEnv'],
    ['splicer', 'workers/splicer/wrangler.toml', 'SplicerEnv'],
  ].map(([name, config, iface]) => [
    `workers/${name}/worker-configuration.d.ts`,
    ['-c', config, '--include-runtime=false', '--env-interface', iface],
  ]),
];

// The local stack writes each worker's .dev.vars (secrets and stack vars), and `wrangler types`
// would read them into Env: an empty env file keeps the output independent of any local run (the
// output path goes first: --env-file takes several values and would swallow it).
const wranglerTypes = (args, target) =>
  execFileSync('npx', ['wrangler', 'types', target, ...args, '--env-file=/dev/null'], {
    stdio: check ? 'pipe' : 'inherit',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });

if (!check) {
  // Removed first: wrangler leaves a file alone when its header's hash matches the config.
  for (const [path, args] of outputs) {
    rmSync(path, { force: true });
    wranglerTypes(args, path);
  }
} else {
  const stale = [];
  for (const [path, args] of outputs) {
    const target = join(dirname(path), `.typegen-check-${process.pid}.d.ts`);
    try {
      wranglerTypes(args, target);
      // The header names the output path it was generated for: put the committed one back.
      const fresh = readFileSync(target, 'utf8').split(target).join(path);
      if (fresh !== readFileSync(path, 'utf8')) stale.push(path);
    } finally {
      rmSync(target, { force: true });
    }
  }
  if (stale.length > 0) {
    console.error(`out of date (run npm run cf-typegen and commit the result):\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`cf-typegen: ${outputs.length} generated type files are up to date`);
}
