import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';
import { agentRHome, localBin, projectRoot } from './project';
import { agentRVersion, gitCommit } from './provenance';
import { RECONCILE_EVERY_MS, startReconcileTicks } from './reconcile-ticks';

/** The wrangler configs of every worker; the first (the gateway) is the one that serves HTTP. */
export const workerConfigs = [
  'wrangler.toml',
  'workers/coordinator/wrangler.toml',
  'workers/expander/wrangler.toml',
  'workers/critic/wrangler.toml',
  'workers/splicer/wrangler.toml',
];

export interface StackOptions {
  port?: number;
  /** Where D1/R2/DO state persists; a restarted stack resumes from it. */
  stateDir?: string;
  /** Start the simulated policy endpoint and register it as endpoint "sim" (default true). */
  sim?: boolean;
  simOptions?: Record<string, unknown>;
  log?: (line: string) => void;
  /** Extra environment for wrangler (tests). */
  env?: Record<string, string>;
  /** Aborts a start in progress (Ctrl-C): whatever was started is stopped, the start rejects. */
  signal?: AbortSignal;
  /** Extra worker vars written to every worker's .dev.vars (e.g. OPS_METER=1 for the bench). */
  vars?: Record<string, string>;
  /** Every chunk wrangler writes to stdout or stderr (worker console output with logLevel 'log'). */
  onOutput?: (text: string) => void;
  /** wrangler's --log-level (default warn; 'log' shows the workers' console.log lines). */
  logLevel?: 'warn' | 'log' | 'info';
  /** How often the gateway's reconciler (its cron) runs (default: the cron's minute; 0: never). */
  reconcileEveryMs?: number;
}

export interface LocalStack {
  apiUrl: string;
  token: string;
  simUrl: string | null;
  wranglerPid: number;
  /** wrangler dev's inspector (DevTools protocol), for profiling the workers. */
  inspectorPort: number;
  stop(): Promise<void>;
}

/**
 * wrangler's DevTools proxy logs every message of the runtime inspector, one per network event of
 * every fetch the workers make, into its debug log file (megabytes per build, and a third of a
 * build's orchestration CPU). wrangler skips the proxy when it runs in VS Code's JavaScript debug
 * terminal, which it detects by this variable; AGENT_R_INSPECT=1 keeps the inspector for debugging.
 */
const inspectorOff: Record<string, string> = process.env.AGENT_R_INSPECT
  ? {}
  : { VSCODE_INSPECTOR_OPTIONS: 'agent-r:inspector-off' };

/**
 * wrangler dev re-bundles a worker when its sources change, by esbuild's watch mode, which polls
 * every source file of every bundle: a constant few percent of a core for the stack's whole life
 * (a build's orchestration CPU counted it). The stack bundles once instead (cli/build-once.cjs);
 * AGENT_R_WATCH=1 keeps the rebuilds for someone editing the workers while it runs.
 * cli/loopback-keepalive.cjs is always preloaded: without it a local queue can stop delivering
 * for good under load (see that file).
 */
const preloads = ['loopback-keepalive.cjs', ...(process.env.AGENT_R_WATCH ? [] : ['build-once.cjs'])].map(
  (file) => `--require=${JSON.stringify(join(projectRoot, 'cli', file))}`,
);

const wranglerPreloads: Record<string, string> = {
  NODE_OPTIONS: [process.env.NODE_OPTIONS, ...preloads].filter(Boolean).join(' '),
};

const wranglerEnv: Record<string, string> = {
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
  NO_COLOR: '1',
  ...inspectorOff,
  ...wranglerPreloads,
};

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = randomBytes(24).toString('base64url');
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

/**
 * Local secrets go to each worker's .dev.vars (gitignored), the way wrangler dev reads them:
 * the admin token, the passphrase that encrypts endpoint keys at rest, and the secret of the
 * signed build webhook (AGENT_R_HOOK_SECRET, or generated into .agent-r/hook-secret).
 */
function writeDevVars(home: string, vars: Record<string, string> = {}): { token: string } {
  const token = readOrCreateSecret(join(home, 'admin-token'));
  const secretsKey = readOrCreateSecret(join(home, 'secrets-key'));
  const hookSecret = process.env.AGENT_R_HOOK_SECRET ?? readOrCreateSecret(join(home, 'hook-secret'));
  // The version and commit the workers report in every manifest and record (provenance).
  const build = `AGENT_R_VERSION=${agentRVersion()}\nAGENT_R_COMMIT=${gitCommit() ?? ''}\n`;
  const extra = Object.entries(vars).map(([key, value]) => `${key}=${value}\n`);
  const text = `ADMIN_TOKEN=${token}\nSECRETS_KEY=${secretsKey}\nHOOK_SECRET=${hookSecret}\n${build}${extra.join('')}`;
  for (const config of workerConfigs) {
    const dir = join(projectRoot, config, '..');
    writeFileSync(join(dir, '.dev.vars'), text, { mode: 0o600 });
  }
  return { token };
}

function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolveRun(output)
        : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`)),
    );
  });
}

async function waitForHealth(
  url: string,
  child: ChildProcess,
  logs: () => string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    signal?.throwIfAborted();
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited (${child.exitCode}) before it answered:\n${logs()}`);
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the local stack did not answer within ${timeoutMs / 1000}s:\n${logs()}`);
}

/**
 * Signals wrangler's whole process group. `evenIfLeaderExited`: workerd children stay in the group
 * after wrangler itself is gone (orphaned, still serving), so the last kill must not skip them.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals, evenIfLeaderExited = false): void {
  if (child.pid === undefined) return;
  if (!evenIfLeaderExited && (child.exitCode !== null || child.signalCode !== null)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** The sim endpoint as registered on every start (PUT /v1/endpoints/sim). */
const simEndpointSql = (url: string) =>
  `UPDATE endpoints SET base_url = '${url}/v1', updated_at = ${Date.now()} WHERE name = 'sim'`;

/**
 * Starts sim-policy on the port it had last time when that port is free, so a run persisted in the
 * state keeps reaching it. On another port the stored "sim" endpoint is pointed at it in D1 before
 * wrangler starts: a resumed run's jobs run as soon as the workers are up, before the PUT after
 * health, and jobs sent to the old port failed their attempts and ended the run `partial`.
 */
async function startSim(
  stateDir: string,
  fresh: boolean,
  simOptions: Record<string, unknown>,
  env: Record<string, string>,
  log: (line: string) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const { startSimPolicy } = await import('./sim-policy/server');
  const portFile = join(stateDir, 'agent-r-sim-port');
  const last = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0;
  let sim: Awaited<ReturnType<typeof startSimPolicy>> | null = null;
  if (simOptions.port === undefined && Number.isInteger(last) && last > 0)
    sim = await startSimPolicy({ ...simOptions, port: last }).catch(() => null);
  sim ??= await startSimPolicy(simOptions);
  if (sim.port !== last) writeFileSync(portFile, `${sim.port}\n`);
  // A fresh state has no stored endpoint to point (and a `wrangler d1 execute` costs seconds).
  if (sim.port !== last && !fresh) {
    log('pointing the stored sim endpoint at the new sim-policy port');
    try {
      await run(
        localBin('wrangler'),
        [
          'd1',
          'execute',
          'DB',
          '--local',
          '--persist-to',
          stateDir,
          '-c',
          'wrangler.toml',
          '--command',
          simEndpointSql(sim.url),
        ],
        env,
      );
    } catch (error) {
      await sim.close();
      throw error;
    }
  }
  return sim;
}

/** Starts every worker under one `wrangler dev` (plus sim-policy), applies D1 migrations first. */
export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  const home = agentRHome();
  mkdirSync(home, { recursive: true });
  const stateDir = options.stateDir ?? join(home, 'state');
  const { token } = writeDevVars(home, options.vars);
  const env = { ...wranglerEnv, ...options.env };
  const wrangler = localBin('wrangler');

  // The gateway serves the dashboard from dashboard/dist (wrangler.toml `[assets]`): build it first.
  log('building the dashboard');
  const { buildDashboardAssets } = await import('../dashboard/build');
  await buildDashboardAssets();

  // Before the migrations create it: whether this state holds anything yet (D1, DO, R2 under v3/).
  const fresh = !existsSync(join(stateDir, 'v3'));
  log('applying D1 migrations');
  await run(
    wrangler,
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir, '-c', 'wrangler.toml'],
    env,
  );

  options.signal?.throwIfAborted();
  let sim: { url: string; close(): Promise<void> } | null = null;
  if (options.sim !== false) {
    sim = await startSim(stateDir, fresh, options.simOptions ?? {}, env, log);
    log(`sim-policy listening on ${sim.url}`);
  }
  if (options.signal?.aborted) {
    await sim?.close();
    options.signal.throwIfAborted();
  }

  const port = options.port || (await freePort());
  const inspectorPort = await freePort();
  const args = [
    'dev',
    ...workerConfigs.flatMap((c) => ['-c', c]),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    stateDir,
    '--show-interactive-dev-session=false',
    '--test-scheduled',
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  log('starting wrangler dev');
  // detached: wrangler and its workerd children form one process group we can stop together.
  const child = spawn(wrangler, args, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // AGENT_R_STACK_LOG=FILE keeps everything wrangler and the workers print (debugging a stack).
  const logFile = process.env.AGENT_R_STACK_LOG;
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
    options.onOutput?.(d.toString());
    if (logFile) appendFileSync(logFile, d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const apiUrl = `http://127.0.0.1:${port}`;
  let stopTicks = () => {};
  const stop = async () => {
    stopTicks();
    killGroup(child, 'SIGTERM');
    const exited = new Promise<void>((r) =>
      child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
    );
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    killGroup(child, 'SIGKILL', true); // workerd children that outlived wrangler
    await sim?.close();
  };
  try {
    await waitForHealth(apiUrl, child, () => output, 120_000, options.signal);
    if (sim) {
      const response = await fetch(`${apiUrl}/v1/endpoints/sim`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          baseUrl: `${sim.url}/v1`,
          model: 'sim-policy',
          maxConcurrency: 32,
          supportsN: true,
        }),
      });
      if (!response.ok)
        throw new Error(`could not register the sim endpoint: ${response.status} ${await response.text()}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const reconcileEveryMs = options.reconcileEveryMs ?? RECONCILE_EVERY_MS;
  if (reconcileEveryMs > 0) stopTicks = startReconcileTicks(apiUrl, reconcileEveryMs, log);
  return { apiUrl, token, simUrl: sim?.url ?? null, wranglerPid: child.pid ?? 0, inspectorPort, stop };
}
