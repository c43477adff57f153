import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { groupStats } from './proc';

/**
 * workerd's own DevTools inspector, reached directly (not through wrangler's proxy, which the local
 * stack turns off and which only ever shows the first worker). miniflare starts the workerd that
 * runs the workers with `--inspector-addr=localhost:0`; that inspector serves one target per
 * workerd service (isolate): the user workers as `core:user:<name>`, and miniflare's internal
 * services (`queues:queue:<name>` brokers, `d1:db:<id>`, `r2:bucket:<name>`, `core:entry`, ...).
 * Linux only (/proc).
 */

export interface InspectorTarget {
  id: string;
  webSocketDebuggerUrl: string;
}

/** The TCP ports a process listens on, from /proc/<pid>/net/tcp and its socket fds. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] (hex ip:port), st is f[3] (0A = LISTEN), inode is f[9].
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      ports.push(Number.parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** The workerd of the stack's process group that has an inspector (`--inspector-addr`). */
export function inspectedWorkerd(pgid: number): number | null {
  for (const s of groupStats(pgid)) {
    if (s.comm !== 'workerd') continue;
    try {
      const args = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
      if (args.includes('--inspector-addr')) return s.pid;
    } catch {
      // gone
    }
  }
  return null;
}

/** The inspector's targets: the first of the process's ports whose GET /json answers a list. */
export async function findInspectorTargets(
  pid: number,
): Promise<{ port: number; targets: InspectorTarget[] }> {
  for (const port of listeningPorts(pid)) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(3000) });
      const body: unknown = await response.json();
      if (Array.isArray(body) && body.every((t) => typeof t?.webSocketDebuggerUrl === 'string'))
        return { port, targets: body as InspectorTarget[] };
    } catch {
      // not the inspector
    }
  }
  throw new Error(`workerd ${pid} has no inspector port answering /json`);
}

/** One DevTools protocol session on a websocket (needs a global WebSocket: Node >= 22, or 20 with --experimental-websocket). */
export class CdpSession {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const msg = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (msg.id === undefined) return; // an event
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    socket.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector socket closed'));
      this.pending.clear();
    });
  }

  static open(url: string, timeoutMs = 10_000): Promise<CdpSession> {
    if (typeof WebSocket !== 'function')
      throw new Error('no global WebSocket: run with Node >= 22, or node --experimental-websocket');
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`inspector ${url} did not open within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new CdpSession(socket));
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector ${url} refused the connection`));
      });
    });
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
