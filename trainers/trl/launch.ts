import { spawn } from 'node:child_process';
import { ensureVenv, trainerDir } from './venv';

// `npm run trainer -- (--tiny | --base-model DIR) --secret S [--port P] [options]`: creates or
// reuses the companion's venv, starts the Python service on 127.0.0.1 and passes on its one
// stdout line TRAINER_URL=<url> once it answers. SIGTERM/SIGINT stop it (and what it serves).
// `--setup` only creates the venv (CI does this before the tests). Every other flag is the
// service's: `npm run trainer -- --help`.

const args = process.argv.slice(2);
const log = (line: string) => process.stderr.write(`trainer: ${line}\n`);

let python: string;
try {
  python = await ensureVenv(log);
} catch (error) {
  log(`could not set up the Python environment: ${(error as Error).message}`);
  process.exit(1);
}
if (args.includes('--setup')) {
  log(`venv ready: ${python}`);
  process.exit(0);
}

const child = spawn(python, ['-m', 'agent_r_trainer', ...args], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    PYTHONPATH: [trainerDir, process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONUNBUFFERED: '1',
    TOKENIZERS_PARALLELISM: 'false',
    HF_HUB_OFFLINE: '1',
  },
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
