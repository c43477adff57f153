import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '../..');

export interface ServeProcess {
  child: ChildProcess;
  apiUrl: string;
  token: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `agent-r serve` as a real process and waits for its API_URL/API_TOKEN lines. */
export async function startServe(
  args: string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 180_000,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['cli/bin.js', 'serve', ...args], {
    cwd: projectRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const started = Date.now();
  while (!/API_TOKEN=\S+/.test(stdout)) {
    if (child.exitCode !== null) throw new Error(`serve exited early (${child.exitCode})\n${output()}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`serve did not print API_URL/API_TOKEN in time\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const apiUrl = /API_URL=(\S+)/.exec(stdout)![1]!;
  const token = /API_TOKEN=(\S+)/.exec(stdout)![1]!;
  return {
    child,
    apiUrl,
    token,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Pids of processes whose command line contains `needle` (from /proc; Linux only). */
export async function processesMatching(needle: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmd.includes(needle)) pids.push(Number(entry));
    } catch {
      // process ended while we looked
    }
  }
  return pids;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `agent-r ARGS` as a real process (from `cwd`, default the project root) and collects its output. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [resolve(projectRoot, 'cli/bin.js'), ...args], {
      cwd: options.cwd ?? projectRoot,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
