import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A Python venv with Hugging Face `datasets`, installed offline from the image's local wheels
// (/opt/wheels, /opt/pypi/files), kept in the temp folder and reused between test runs.

const WHEEL_DIRS = ['/opt/wheels', '/opt/pypi/files'];
const VENV = join(tmpdir(), 'agent-r-datasets-venv');

/** Why the venv cannot be made here, or null when the wheels are present. */
export function datasetsUnavailable(): string | null {
  const dirs = WHEEL_DIRS.filter((d) => existsSync(d));
  const hasWheel = dirs.some((d) => readdirSync(d).some((f) => /^datasets-.*\.whl$/.test(f)));
  return hasWheel
    ? null
    : `no datasets wheel in ${WHEEL_DIRS.join(' or ')}: the Hugging Face load test is skipped`;
}

function run(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.slice(-4000) });
    });
  });
}

/** The venv's python with `datasets` importable (created on first use, a minute or two). */
export async function datasetsPython(): Promise<string> {
  const python = join(VENV, 'bin', 'python');
  if (existsSync(python) && (await run(python, ['-c', 'import datasets'], 60_000)).code === 0) return python;
  const made = await run('python3', ['-m', 'venv', '--clear', VENV], 120_000);
  if (made.code !== 0) throw new Error(`python3 -m venv failed:\n${made.output}`);
  const dirs = WHEEL_DIRS.filter((d) => existsSync(d)).flatMap((d) => ['-f', d]);
  const installed = await run(
    python,
    ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-index', ...dirs, 'datasets'],
    400_000,
  );
  if (installed.code !== 0) throw new Error(`pip install datasets failed:\n${installed.output}`);
  return python;
}

/** Runs a Python snippet with the venv; returns its stdout (and stderr on failure). */
export async function runPython(
  python: string,
  code: string,
): Promise<{ code: number | null; output: string }> {
  return run(python, ['-c', code], 180_000);
}
