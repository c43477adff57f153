import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../../cli/ports';
import { projectRoot } from './cli-process';

// The real AgentGym servers (AgentGym 3ef9235, vendored beside the checkout in ../shared/vendor,
// never copied into the project). Each runs in its own process group so a test can kill the
// server with everything it started (SciWorld's JVMs included).

export type RealServerKind = 'textcraft' | 'sciworld';

export const vendorDir = resolve(projectRoot, '../shared/vendor/agentgym');
const scripts: Record<RealServerKind, string> = {
  textcraft: resolve(vendorDir, 'start-textcraft.sh'),
  sciworld: resolve(vendorDir, 'start-sciworld.sh'),
};

/** Why the real servers cannot run here, or null when they can. */
export function realServersMissing(): string | null {
  for (const script of Object.values(scripts)) {
    if (!existsSync(script))
      return `${script} is absent (the real AgentGym servers live in ../shared/vendor)`;
  }
  return null;
}

export interface RealServer {
  readonly kind: RealServerKind;
  readonly url: string;
  readonly port: number;
  output(): string;
  /** SIGKILLs the server's whole process group and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (a fresh process: no envs survive). */
  restart(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts a real server on a free loopback port and waits (bounded) until it answers GET /. */
export async function startRealServer(kind: RealServerKind, timeoutMs = 60_000): Promise<RealServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let log = '';
  const launch = async () => {
    const started = spawn(scripts[kind], [String(port)], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout?.on('data', (d) => (log += d));
    started.stderr?.on('data', (d) => (log += d));
    const deadline = Date.now() + timeoutMs;
    while (!(await answers(url))) {
      if (started.exitCode !== null) throw new Error(`${kind} server exited (${started.exitCode}):\n${log}`);
      if (Date.now() > deadline) {
        await kill();
        throw new Error(`${kind} server did not answer on ${url} within ${timeoutMs} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    try {
      process.kill(-running.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  };
  await launch();
  return {
    kind,
    url,
    port,
    output: () => log,
    kill,
    async restart() {
      await kill();
      await launch();
    },
  };
}

export interface CountingProxy {
  readonly url: string;
  /** Calls forwarded, by `METHOD /path` (query strings dropped). */
  readonly counts: Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of a real server that counts the calls it forwards: an independent
 * measure of what a build or eval cost the server (resets, steps), not the product's own report.
 */
export async function countingProxy(target: string): Promise<CountingProxy> {
  const { createServer } = await import('node:http');
  const counts: Record<string, number> = {};
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const key = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
    counts[key] = (counts[key] ?? 0) + 1;
    try {
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
        ...(body ? { body } : {}),
        signal: AbortSignal.timeout(120_000),
      });
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (error) {
      res.destroy(error as Error);
    }
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    reset() {
      for (const key of Object.keys(counts)) delete counts[key];
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
