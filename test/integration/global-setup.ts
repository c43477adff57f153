import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startSimPolicy } from '../../cli/sim-policy/server';
import { startFakeTextCraft } from '../../cli/bench/fakes/agentgym-textcraft';
import { startFaultProxy } from '../../cli/bench/fakes/fault-proxy';
import { type RealServer, realServersMissing, startRealServer } from '../helpers/agentgym-servers';

declare module 'vitest' {
  export interface ProvidedContext {
    simPolicyUrl: string;
    webhookReceiverUrl: string;
    textcraftServerUrl: string;
    /** Fault proxy over sim-policy (/<ns>/llm) and TextCraft (/<ns>/env); see fault-proxy.ts. */
    faultProxyUrl: string;
    /**
     * The fault proxy in front of the real vendored AgentGym TextCraft server ('' when it cannot
     * run here; `realTextcraftMissing` says why).
     */
    realFaultProxyUrl: string;
    realTextcraftMissing: string;
    /** Where the durability scenarios POST their measured results ('' when nobody asked). */
    faultResultsUrl: string;
  }
}

interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A webhook receiver on 127.0.0.1 for the outbound-webhook tests. POST /hook/<bucket>[?fail=N]
 * records the request and answers 500 to the first N requests of that bucket, then 204
 * (fail=always: always 500). GET /received/<bucket> returns what the bucket got, in order.
 */
async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const received = new Map<string, ReceivedRequest[]>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const [, kind, bucket] = url.pathname.split('/');
    if (req.method === 'GET' && kind === 'received' && bucket) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(received.get(bucket) ?? []));
      return;
    }
    if (req.method !== 'POST' || kind !== 'hook' || !bucket) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const list = received.get(bucket) ?? [];
      if (list.length < 1000) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        list.push({ path: url.pathname + url.search, headers, body: Buffer.concat(chunks).toString('utf8') });
      }
      received.set(bucket, list);
      const fail = url.searchParams.get('fail');
      const failing = fail === 'always' || list.length <= Number(fail ?? 0);
      res.writeHead(failing ? 500 : 204, failing ? { 'content-type': 'text/plain' } : {});
      res.end(failing ? 'receiver says no' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * AGENT_R_FAULT_RESULTS=<file> (set by the bench, cli/bench/faults/workerd.ts): the durability
 * scenarios POST each measured result here and it is appended to the file as one JSON line, so
 * bench.json reports the scenarios only workerd can inject. The tests run inside workerd and
 * cannot write the host's files themselves.
 */
async function startResultSink(file: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        appendFileSync(file, `${JSON.stringify(JSON.parse(body))}\n`);
        res.writeHead(204).end();
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/result`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// sim-policy is a Node HTTP server, so it runs here (in Node) and the workers inside workerd
// reach it over loopback like any real OpenAI-compatible endpoint.
export default async function setup(project: TestProject) {
  const sim = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, seed: 7 });
  project.provide('simPolicyUrl', sim.url);
  const receiver = await startWebhookReceiver();
  project.provide('webhookReceiverUrl', receiver.url);
  // An AgentGym TextCraft server (the fake speaks the real wire format, backed by our engine).
  const textcraft = await startFakeTextCraft();
  project.provide('textcraftServerUrl', textcraft.url);
  const proxy = await startFaultProxy({ llm: sim.url, env: textcraft.url });
  project.provide('faultProxyUrl', proxy.url);
  // The real TextCraft server (../shared/vendor), for faults that must come from a server we did
  // not write; tests that need it skip with the reason when it is absent.
  let real: RealServer | null = null;
  let realProxy: Awaited<ReturnType<typeof startFaultProxy>> | null = null;
  let missing = realServersMissing();
  if (!missing) {
    try {
      real = await startRealServer('textcraft');
      realProxy = await startFaultProxy({ llm: sim.url, env: real.url });
    } catch (error) {
      missing = `the real TextCraft server did not start: ${error instanceof Error ? error.message : error}`;
    }
  }
  project.provide('realFaultProxyUrl', realProxy?.url ?? '');
  project.provide('realTextcraftMissing', missing ?? '');
  const file = process.env.AGENT_R_FAULT_RESULTS;
  const sink = file ? await startResultSink(file) : null;
  project.provide('faultResultsUrl', sink?.url ?? '');
  return async () => {
    await sink?.close();
    await realProxy?.close();
    await real?.kill();
    await proxy.close();
    await textcraft.close();
    await sim.close();
    await receiver.close();
  };
}
