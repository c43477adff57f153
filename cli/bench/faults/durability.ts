import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RunSpecInput } from '../../../shared/contracts/run-spec';
import { startFakeTextCraft } from '../fakes/agentgym-textcraft';
import { startFaultProxy } from '../fakes/fault-proxy';
import { downloadRun, submitRun, waitForRun } from '../build-run';
import { compareRunDirs } from '../compare';
import { type DurabilityResult, benchEntry } from './result';
import { countIndexRows } from './resume';
import { type Log, type StackHandle, startScenarioStack } from './stack';
import { runWorkerdScenarios } from './workerd';

/**
 * The durability scenarios of issue 15 on the real local stack (wrangler dev, every worker), each
 * a fault the inference and env-server faults never produce. Faults come from a loopback proxy
 * (cli/bench/fakes/fault-proxy.ts) in front of the stack's sim-policy and a TextCraft server: no real
 * AgentGym server can be made to answer with 3 MB or to count requests in flight per env id.
 * D1 failing for seconds and queue.send failing once cannot be injected into `wrangler dev`
 * from outside: those run in workerd (test/integration/durability.test.ts, run by workerd.ts) and
 * join these in bench.json.
 *
 * Each result (result.ts): how the run ended, how long it took, records lost and duplicated (R2
 * files vs the ledger's counts and D1's index rows; vs the fault-free run where the fault leaves
 * the data unchanged) and how many run.completed webhooks arrived.
 */
interface Fixture {
  handle: StackHandle;
  proxy: Awaited<ReturnType<typeof startFaultProxy>>;
  textcraft: Awaited<ReturnType<typeof startFakeTextCraft>>;
  hooks: Map<string, number>;
  workDir: string;
  timeoutMs: number;
  log?: Log;
}

async function arm(proxyUrl: string, faults: Record<string, number>) {
  const ns = `ns${Math.random().toString(36).slice(2, 10)}`;
  const armed = await fetch(`${proxyUrl}/__arm/${ns}`, { method: 'POST', body: JSON.stringify(faults) });
  if (armed.status !== 204) throw new Error(`fault proxy: arming failed (${armed.status})`);
  return {
    llm: `${proxyUrl}/${ns}/llm/v1`,
    env: `${proxyUrl}/${ns}/env`,
    stats: async () => (await (await fetch(`${proxyUrl}/__stats/${ns}`)).json()) as Record<string, number>,
  };
}

async function endpoint(
  f: Fixture,
  baseUrl: string,
  settings: Record<string, unknown> = {},
): Promise<string> {
  const name = `dur-${Math.random().toString(36).slice(2, 8)}`;
  await f.handle.api.json('PUT', `/v1/endpoints/${name}`, {
    baseUrl,
    model: 'sim-policy',
    maxConcurrency: 8,
    ...settings,
  });
  return name;
}

/** Lines of a JSONL file (none when absent). */
async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

/** Runs `spec` to its end; downloads it; lost/duplicated against its own counts and D1's index. */
async function runOne(f: Fixture, name: string, spec: RunSpecInput) {
  const started = performance.now();
  const runId = await submitRun(f.handle.api, spec);
  const view = await waitForRun(f.handle.api, runId, { timeoutMs: f.timeoutMs });
  const endS = (performance.now() - started) / 1000;
  const dir = join(f.workDir, name);
  const manifest = await downloadRun(f.handle.api, runId, spec.tasks, dir);
  const records = [
    ...(await lines(join(dir, 'revision.native.jsonl'))),
    ...(await lines(join(dir, 'good.native.jsonl'))),
  ];
  const ids = records.map((l) => (JSON.parse(l) as { id: string }).id);
  const counted = manifest.counts.revision + manifest.counts.good;
  const indexRows = await countIndexRows(f.handle.api, runId);
  const webhooks = await webhooksFor(f, runId);
  return {
    runId,
    view,
    dir,
    endS,
    d1Final: await d1Final(f, runId, view.status),
    lost: Math.max(0, counted - new Set(ids).size),
    duplicated: ids.length - new Set(ids).size + Math.max(0, indexRows - counted),
    webhooks,
  };
}

/**
 * Whether D1 holds the run's end as the ledger decided it: the API's status is the ledger's, its
 * `completedAt` D1's, which only the ledger's copy of a final status sets (bounded wait, 20 s).
 */
async function d1Final(f: Fixture, runId: string, status: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    const view = await f.handle.api.json<{ status: string; completedAt: number | null }>(
      'GET',
      `/v1/runs/${runId}`,
    );
    if (view.completedAt !== null) return view.status === status;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** run.completed deliveries of `runId`: waits up to 20 s for the first, then 2 s for a duplicate. */
async function webhooksFor(f: Fixture, runId: string): Promise<number> {
  for (let i = 0; i < 100 && !f.hooks.get(runId); i++) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 2000));
  return f.hooks.get(runId) ?? 0;
}

const craft: RunSpecInput = {
  tasks: [0, 1, 2, 3],
  iterations: 2,
  width: 2,
  depth: 5,
  seed: 11,
  parallelism: 1,
};
const gym = (envServer: string): RunSpecInput => ({
  tasks: [3, 4],
  iterations: 2,
  width: 2,
  depth: 5,
  seed: 11,
  parallelism: 1,
  env: 'agentgym',
  flavor: 'textcraft',
  envServer,
});

async function bigCompletion(f: Fixture): Promise<DurabilityResult> {
  const space = await arm(f.proxy.url, { bigCompletions: 1, chars: 3_000_000 });
  const run = await runOne(f, 'big-completion', { ...craft, policy: await endpoint(f, space.llm) });
  return {
    scenario: 'big_completion_3mb',
    status: run.view.status,
    endS: run.endS,
    lost: run.lost,
    duplicated: run.duplicated,
    webhooks: run.webhooks,
    facts: {
      d1_final: run.d1Final,
      big_served: (await space.stats()).bigServed ?? 0,
      failed_jobs: run.view.counters?.failedJobs ?? 0,
    },
  };
}

async function bigObservation(f: Fixture): Promise<DurabilityResult> {
  const space = await arm(f.proxy.url, { bigObservations: 1, chars: 3_000_000 });
  const run = await runOne(f, 'big-observation', gym(space.env));
  const stats = await space.stats();
  return {
    scenario: 'big_observation_3mb',
    status: run.view.status,
    endS: run.endS,
    lost: run.lost,
    duplicated: run.duplicated,
    webhooks: run.webhooks,
    facts: { d1_final: run.d1Final, big_served: stats.bigServed ?? 0, big_replayed: stats.bigRepeated ?? 0 },
  };
}

async function slowEndpoint(f: Fixture): Promise<DurabilityResult> {
  const clean = await runOne(f, 'slow-reference', gym(f.textcraft.url));
  const space = await arm(f.proxy.url, { completionDelayMs: 1500 });
  const policy = await endpoint(f, space.llm, { maxConcurrency: 1 });
  const run = await runOne(f, 'slow-endpoint', { ...gym(space.env), policy, jobTimeoutMs: 1000 });
  const stats = await space.stats();
  const same = await compareRunDirs(clean.dir, run.dir);
  return {
    scenario: 'slow_endpoint_capacity_1',
    status: run.view.status,
    endS: run.endS,
    lost: run.lost + same.lost,
    duplicated: run.duplicated + same.duplicated,
    webhooks: run.webhooks,
    facts: {
      d1_final: run.d1Final && clean.d1Final,
      max_in_flight_per_env_id: stats.maxInFlightPerEnv ?? 0,
      max_completions_in_flight: stats.maxInFlightCompletions ?? 0,
      records_identical: same.records.every((r) => r.identical),
    },
  };
}

async function gateWithoutN(f: Fixture): Promise<DurabilityResult> {
  const space = await arm(f.proxy.url, {});
  const policy = await endpoint(f, space.llm, { maxConcurrency: 4, supportsN: false });
  // Parallelism 1: a tree is then the same whatever order results arrive in (at 2 it is not:
  // test/unit/mcts/arrival-order.test.ts), and the samples of a width-4 request without `n` are
  // seeded s..s+3 and kept in seed order, so waiting at the gate changes no record.
  const spec: RunSpecInput = { ...craft, width: 4, parallelism: 1, policy };
  const alone = await runOne(f, 'gate-alone', spec);
  const started = performance.now();
  const [a, b] = await Promise.all([runOne(f, 'gate-a', spec), runOne(f, 'gate-b', spec)]);
  const sameA = await compareRunDirs(alone.dir, a.dir);
  const sameB = await compareRunDirs(alone.dir, b.dir);
  const stats = await space.stats();
  return {
    scenario: 'gate_capacity_4_supports_n_false',
    status: a.view.status === b.view.status ? a.view.status : `${a.view.status}/${b.view.status}`,
    endS: (performance.now() - started) / 1000,
    lost: a.lost + b.lost + sameA.lost + sameB.lost,
    duplicated: a.duplicated + b.duplicated + sameA.duplicated + sameB.duplicated,
    webhooks: a.webhooks + b.webhooks,
    facts: {
      d1_final: alone.d1Final && a.d1Final && b.d1Final,
      max_completions_in_flight: stats.maxInFlightCompletions ?? 0,
      runs: 2,
      alone_status: alone.view.status,
      alone_webhooks: alone.webhooks,
      records_identical: sameA.identical && sameB.identical,
    },
  };
}

async function cancelWhileStarting(f: Fixture): Promise<DurabilityResult> {
  const space = await arm(f.proxy.url, {});
  const policy = await endpoint(f, space.llm);
  const tasks = Array.from({ length: 120 }, (_, i) => i);
  const started = performance.now();
  const runId = await submitRun(f.handle.api, { ...craft, tasks, policy });
  await f.handle.api.json('POST', `/v1/runs/${runId}/cancel`);
  const atCancel = (await space.stats()).completions ?? 0;
  const view = await waitForRun(f.handle.api, runId, { timeoutMs: f.timeoutMs });
  const endS = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 3000));
  const later = (await space.stats()).completions ?? 0;
  const webhooks = await webhooksFor(f, runId);
  const manifest = await f.handle.api.json<{ counts: { revision: number; good: number } }>(
    'GET',
    `/v1/runs/${runId}/manifest`,
  );
  const indexRows = await countIndexRows(f.handle.api, runId);
  return {
    scenario: 'cancel_while_trees_start',
    status: view.status,
    endS,
    lost: 0,
    duplicated: Math.max(0, indexRows - manifest.counts.revision - manifest.counts.good),
    webhooks,
    facts: {
      d1_final: await d1Final(f, runId, view.status),
      calls_after_cancel: later - atCancel,
      records: indexRows,
    },
  };
}

export const durabilityScenarios = {
  big_completion_3mb: bigCompletion,
  big_observation_3mb: bigObservation,
  slow_endpoint_capacity_1: slowEndpoint,
  gate_capacity_4_supports_n_false: gateWithoutN,
  cancel_while_trees_start: cancelWhileStarting,
};

/** A loopback receiver of run.completed webhooks: deliveries counted per run id. */
async function startHookReceiver() {
  const hooks = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const runId = (JSON.parse(body || '{}') as { data?: { runId?: string } }).data?.runId;
      if (runId) hooks.set(runId, (hooks.get(runId) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { hooks, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Runs the named scenarios (all by default) on one stack, one after the other. */
export async function runDurabilityScenarios(
  handle: StackHandle,
  options: { workDir: string; timeoutMs: number; only?: (keyof typeof durabilityScenarios)[]; log?: Log },
): Promise<DurabilityResult[]> {
  const textcraft = await startFakeTextCraft();
  const proxy = await startFaultProxy({ llm: handle.stack.simUrl!, env: textcraft.url });
  const receiver = await startHookReceiver();
  await handle.api.json('POST', '/v1/webhooks', { url: receiver.url, events: ['run.completed'] });
  const fixture: Fixture = { handle, proxy, textcraft, hooks: receiver.hooks, ...options };
  const results: DurabilityResult[] = [];
  try {
    for (const name of options.only ??
      (Object.keys(durabilityScenarios) as (keyof typeof durabilityScenarios)[])) {
      options.log?.(`durability: ${name}`);
      const result = await durabilityScenarios[name](fixture);
      options.log?.(`  ${durabilitySummary(result)}`);
      results.push(result);
    }
    return results;
  } finally {
    await receiver.close();
    await proxy.close();
    await textcraft.close();
  }
}

export function durabilitySummary(r: DurabilityResult): string {
  const facts = Object.entries(r.facts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `FAULTS ${r.scenario}: ${r.status} in ${r.endS.toFixed(1)} s, lost ${r.lost}, duplicated ${r.duplicated}, ` +
    `webhooks ${r.webhooks}; ${facts}`
  );
}

/**
 * The bench's entries (bench.json `faults`): the wrangler-dev scenarios on their own stack, then
 * (with the stack stopped, so they do not share the CPU) the workerd ones in a child vitest.
 */
export async function durabilityBenchSection(workDir: string, log: Log): Promise<Record<string, unknown>> {
  const dir = join(workDir, 'durability');
  const handle = await startScenarioStack(join(dir, 'state'), { latencyMs: 20, perTokenMs: 0.5 });
  let results: DurabilityResult[];
  try {
    results = await runDurabilityScenarios(handle, { workDir: dir, timeoutMs: 10 * 60_000, log });
  } finally {
    await handle.stack.stop();
  }
  const workerd = await runWorkerdScenarios({ workDir: join(dir, 'workerd'), timeoutMs: 10 * 60_000, log });
  for (const r of workerd.results) log(`  ${durabilitySummary(r)}`);
  for (const m of workerd.missing) log(`  FAULTS ${m.scenario}: not measured; ${m.reason}`);
  return Object.fromEntries([
    ...[...results, ...workerd.results].map((r) => [r.scenario, benchEntry(r)]),
    ...workerd.missing.map((m) => [m.scenario, { status: 'not measured', error: m.reason }]),
  ]);
}
