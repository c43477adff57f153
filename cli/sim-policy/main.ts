import { HELP, parseSimPolicyArgs } from './cli-args';
import type { SimPolicyOptionsInput } from './options';
import { startSimPolicy } from './server';

/**
 * `npx tsx cli/sim-policy/main.ts --port 0 ...`: starts sim-policy on 127.0.0.1, prints
 * `SIM_POLICY_URL=http://127.0.0.1:PORT` once listening, stops on SIGTERM or SIGINT.
 */

async function main(): Promise<void> {
  let options: SimPolicyOptionsInput | 'help';
  try {
    options = parseSimPolicyArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`sim-policy: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const server = await startSimPolicy(options);
  process.stdout.write(`SIM_POLICY_URL=${server.url}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sim-policy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
