import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of the real sim-policy server (`/<ns>/llm/...`) and the AgentGym
 * TextCraft server (`/<ns>/env/...`), for faults those servers cannot be made to produce: a
 * completion or an observation of several MB, a completion slower than the job deadline. It
 * records, per namespace, how many requests were in flight at once on each env id.
 *
 * POST /__arm/<ns> {bigCompletions?, bigObservations?, chars?, completionDelayMs?}: the next N
 * completions / step observations of that namespace are replaced by `chars` characters. A big
 * observation belongs to its state (the task reset and the actions since): the same step from
 * the same state is answered with it again, as a deterministic server would (replays see it too).
 * GET /__stats/<ns>: {maxInFlightPerEnv, envRequests, completions, bigServed, bigRepeated, ...}.
 */
export interface FaultProxy {
  url: string;
  close(): Promise<void>;
}

interface Namespace {
  bigCompletions: number;
  bigObservations: number;
  chars: number;
  completionDelayMs: number;
  inFlight: Map<string, number>;
  maxInFlightPerEnv: number;
  envRequests: number;
  completions: number;
  bigServed: number;
  /** Steps answered with a big observation again (the same state stepped again, e.g. a replay). */
  bigRepeated: number;
  inFlightCompletions: number;
  maxInFlightCompletions: number;
  /** Per env id: the task it was reset to and the actions stepped since. */
  histories: Map<string, string[]>;
  /** The states (task, actions) whose step observation is the big one. */
  bigStates: Set<string>;
}

function fresh(): Namespace {
  return {
    bigCompletions: 0,
    bigObservations: 0,
    chars: 3_000_000,
    completionDelayMs: 0,
    inFlight: new Map(),
    maxInFlightPerEnv: 0,
    envRequests: 0,
    completions: 0,
    bigServed: 0,
    bigRepeated: 0,
    inFlightCompletions: 0,
    maxInFlightCompletions: 0,
    histories: new Map(),
    bigStates: new Set(),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The env id a TextCraft request addresses (JSON body `id`, or `?id=`), if any. */
function envIdOf(url: URL, body: Buffer): string | null {
  const query = url.searchParams.get('id');
  if (query !== null) return query;
  try {
    const json = JSON.parse(body.toString('utf8')) as { id?: unknown };
    return typeof json.id === 'number' ? String(json.id) : null;
  } catch {
    return null;
  }
}

function jsonOf(body: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Tracks the env id's state; answers a step from an armed or known big state with `chars` more. */
function enlargeObservation(
  state: Namespace,
  path: string,
  envId: string,
  body: Buffer,
  text: string,
): string {
  const request = jsonOf(body);
  if (path.startsWith('/create') || path.startsWith('/reset')) {
    state.histories.set(envId, [`task ${String(request.data_idx ?? request.id ?? 0)}`]);
    return text;
  }
  if (!path.startsWith('/step')) return text;
  const history = state.histories.get(envId) ?? ['task ?'];
  history.push(String(request.action));
  state.histories.set(envId, history);
  const key = history.join('\n');
  if (!state.bigStates.has(key)) {
    if (state.bigObservations <= 0) return text;
    state.bigObservations -= 1;
    state.bigStates.add(key);
    state.bigServed += 1;
  } else state.bigRepeated += 1;
  const json = JSON.parse(text) as { observation?: string };
  if (typeof json.observation !== 'string') return text;
  json.observation = `${json.observation}\n${'B'.repeat(state.chars)}`;
  return JSON.stringify(json);
}

export async function startFaultProxy(targets: { llm: string; env: string }): Promise<FaultProxy> {
  const spaces = new Map<string, Namespace>();
  const space = (ns: string) => {
    const known = spaces.get(ns);
    if (known) return known;
    const created = fresh();
    spaces.set(ns, created);
    return created;
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const [, first, ns, kind, ...rest] = url.pathname.split('/');
      const body = await readBody(req);
      if (first === '__arm' && ns) {
        Object.assign(space(ns), JSON.parse(body.toString('utf8') || '{}'));
        res.writeHead(204).end();
        return;
      }
      if (first === '__stats' && ns) {
        const { inFlight: _, histories: _h, bigStates: _b, ...stats } = space(ns);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
        return;
      }
      // /<ns>/<kind>/<rest>: first is the namespace here.
      const state = space(first ?? '');
      const target = ns === 'llm' ? targets.llm : ns === 'env' ? targets.env : null;
      if (!target) {
        res.writeHead(404).end();
        return;
      }
      const path = `/${[kind, ...rest].filter((p) => p !== undefined).join('/')}${url.search}`;
      const envId = ns === 'env' ? envIdOf(url, body) : null;
      if (envId !== null) {
        state.envRequests += 1;
        const now = (state.inFlight.get(envId) ?? 0) + 1;
        state.inFlight.set(envId, now);
        state.maxInFlightPerEnv = Math.max(state.maxInFlightPerEnv, now);
      }
      const completion = ns === 'llm' && path.includes('/chat/completions');
      if (completion) {
        state.completions += 1;
        state.inFlightCompletions += 1;
        state.maxInFlightCompletions = Math.max(state.maxInFlightCompletions, state.inFlightCompletions);
      }
      try {
        if (completion && state.completionDelayMs > 0)
          // Unref'd: a held completion never keeps the test process alive after close().
          await new Promise((r) => setTimeout(r, state.completionDelayMs).unref());
        const upstream = await fetch(`${target}${path}`, {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: new Uint8Array(body) }),
        });
        let text = await upstream.text();
        if (completion && state.bigCompletions > 0 && upstream.ok) {
          state.bigCompletions -= 1;
          state.bigServed += 1;
          const json = JSON.parse(text) as { choices: { message: { content: string } }[] };
          json.choices[0]!.message.content = `Thought: ${'A'.repeat(state.chars)}\nAction: wait`;
          text = JSON.stringify(json);
        }
        if (ns === 'env' && envId !== null && upstream.ok)
          text = enlargeObservation(state, path, envId, body, text);
        res.writeHead(upstream.status, {
          'content-type': upstream.headers.get('content-type') ?? 'application/json',
        });
        res.end(text);
      } finally {
        if (envId !== null) state.inFlight.set(envId, (state.inFlight.get(envId) ?? 1) - 1);
        if (completion) state.inFlightCompletions -= 1;
      }
    } catch (error) {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
