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

export interface StartedProcess {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout: () => string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running process from the project root and waits until its stdout matches `ready`. */
export async function startProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; ready: RegExp; what: string; timeoutMs?: number },
): Promise<StartedProcess> {
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-100_000)));
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const started = Date.now();
  while (!options.ready.test(stdout)) {
    if (child.exitCode !== null)
      throw new Error(`${options.what} exited early (${child.exitCode})\n${output()}`);
    if (Date.now() - started > (options.timeoutMs ?? 180_000)) {
      child.kill('SIGKILL');
      throw new Error(`${options.what} did not get ready in time\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    stdout: () => stdout,
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

/** Runs `agent-r serve` as a real process and waits for its API_URL/API_TOKEN lines. */
export async function startServe(
  args: string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 180_000,
): Promise<ServeProcess> {
  const serve = await startProcess(process.execPath, ['cli/bin.js', 'serve', ...args], {
    env,
    ready: /API_TOKEN=\S+/,
    what: 'serve',
    timeoutMs,
  });
  const apiUrl = /API_URL=(\S+)/.exec(serve.stdout())![1]!;
  const token = /API_TOKEN=(\S+)/.exec(serve.stdout())![1]!;
  return { child: serve.child, apiUrl, token, output: serve.output, stop: serve.stop };
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

/** Runs a command to its end (SIGKILL after timeoutMs) and collects its output. */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, {
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

/** Runs `agent-r ARGS` as a real process (from `cwd`, default the project root) and collects its output. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return runProcess(process.execPath, [resolve(projectRoot, 'cli/bin.js'), ...args], options);
}

/** After a test: kills whatever still runs from `home` (a leaked workerd) and removes it. */
export async function removeHome(home: string): Promise<void> {
  for (const pid of await processesMatching(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const { rm } = await import('node:fs/promises');
  await rm(home, { recursive: true, force: true });
}
