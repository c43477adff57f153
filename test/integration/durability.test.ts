import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { runLedgerStub, taskTreeStub } from '../../workers/common/env';
import { type Fault, faultyD1, faultyQueue, patchBindings, proxySpace } from './fault-hooks';
import { contentDiff, measureRun, reportFaultResult } from './fault-results';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook, runOutputs } from './settled';
import type { RunCounters, RunView as ApiRunView } from '../../shared/contracts/run-view';
import type { TreeNode } from '../../shared/contracts/tree-file';

/** A run as the API answers it once its RunLedger counted it (the test reads its counters). */
type RunView = ApiRunView & { counters: RunCounters };

const env = workerEnv as unknown as CoordinatorBindings;

async function registerSim() {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy', maxConcurrency: 8 },
  });
  expect(put.status).toBe(200);
}

async function createRun(spec: Record<string, unknown>): Promise<string> {
  const created = await api('/v1/runs', { method: 'POST', json: spec });
  expect(created.status).toBe(201);
  return ((await created.json()) as RunView).id;
}

async function waitForEnd(id: string, attempts = 1200): Promise<RunView> {
  return eventually(
    async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunView;
      return ['completed', 'partial', 'failed', 'cancelled'].includes(view.status) ? view : null;
    },
    attempts,
    50,
  );
}

async function d1Run(id: string) {
  return env.DB.prepare('SELECT status, completed_at FROM runs WHERE id = ?')
    .bind(id)
    .first<{ status: string; completed_at: number | null }>();
}

async function d1TaskRows(id: string): Promise<number> {
  return (
    (
      await env.DB.prepare('SELECT COUNT(*) AS n FROM run_tasks WHERE run_id = ?')
        .bind(id)
        .first<{ n: number }>()
    )?.n ?? 0
  );
}

async function receivedFor(bucket: string, runId: string): Promise<string[]> {
  const all = (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as {
    body: string;
  }[];
  return all.map((r) => r.body).filter((b) => b.includes(runId));
}

const spec = { iterations: 2, width: 2, depth: 5, seed: 11, parallelism: 1 };

/** A fresh namespace of the fault proxy (see cli/bench/fakes/fault-proxy.ts), armed with `faults`. */

type Node = TreeNode;

function nodesOf(node: Node): Node[] {
  return [node, ...node.children.flatMap(nodesOf)];
}

async function allNodes(id: string, tasks: number[]): Promise<Node[]> {
  const out: Node[] = [];
  for (const task of tasks) {
    const tree = (await (await api(`/v1/runs/${id}/tasks/${task}/tree`)).json()) as { root: Node };
    out.push(...nodesOf(tree.root));
  }
  return out;
}

describe('durability: faults the fault-free path never sees', () => {
  it('D1 failing for seconds during reportTask and the run completion: the ledger repairs D1, the webhook fires once', async () => {
    await registerSim();
    const bucket = `dur${Date.now().toString(36)}`;
    const hook = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: `${inject('webhookReceiverUrl')}/hook/${bucket}`, events: ['run.completed'] },
    });
    expect(hook.status).toBe(201);
    const tasks = [0, 1, 2];
    const created = Date.now();
    const id = await createRun({ ...spec, tasks });
    const fault: Fault = { on: true, hits: 0 };
    await patchBindings(runLedgerStub(env, id), (real) => ({ DB: faultyD1(real.DB, fault) }));
    const faultStart = Date.now();
    // Every task ends while D1 is down: the ledger knows, D1 does not yet.
    const ledger = await eventually(async () => {
      const status = await runLedgerStub(env, id).status();
      return status && status.status !== 'running' ? status : null;
    }, 1200);
    expect(ledger.status).toBe('completed');
    expect((await d1Run(id))?.status).toBe('running');
    expect(await d1TaskRows(id)).toBe(0);
    expect(await receivedFor(bucket, id)).toEqual([]);
    // The outage lasts a few seconds in all, then D1 is back.
    await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (Date.now() - faultStart))));
    expect(fault.hits).toBeGreaterThan(0);
    fault.on = false;
    const back = Date.now();
    const repaired = await eventually(async () => {
      const row = await d1Run(id);
      return row?.status === 'completed' && row.completed_at !== null ? row : null;
    }, 200);
    const agreed = Date.now();
    expect(repaired.status).toBe(ledger.status);
    expect(await d1TaskRows(id)).toBe(tasks.length);
    const deliveries = await eventually(async () => {
      const got = await receivedFor(bucket, id);
      return got.length ? got : null;
    }, 200);
    console.log(
      `D1 down ${back - faultStart} ms (${fault.hits} failed statements): D1 agreed ${agreed - back} ms after it came back`,
    );
    // Once: wait a little more for a duplicate that must not come.
    await new Promise((r) => setTimeout(r, 1500));
    const webhooks = (await receivedFor(bucket, id)).length;
    const view = (await (await api(`/v1/runs/${id}`)).json()) as RunView;
    const measured = await measureRun(id, tasks);
    // Measured first, asserted after: the bench shows the figures of a failing run too.
    await reportFaultResult({
      scenario: 'd1_down_during_report_and_completion',
      status: repaired.status,
      endS: (agreed - created) / 1000,
      lost: measured.lost,
      duplicated: measured.duplicated,
      webhooks,
      facts: {
        d1_failed_statements: fault.hits,
        d1_down_ms: back - faultStart,
        d1_agreed_ms_after_recovery: agreed - back,
        ledger_status: ledger.status,
        d1_task_rows: await d1TaskRows(id),
        tasks_done: view.counters.tasksDone ?? 0,
        records: measured.records,
        index_rows: measured.indexRows,
      },
    });
    expect(webhooks).toBe(1);
    expect(deliveries).toHaveLength(1);
    expect(view.status).toBe('completed');
    expect(view.counters.tasksDone).toBe(tasks.length);
    await expectSettled(id, bucket);
    expect(measured.records).toBeGreaterThan(0);
    expect(measured.lost).toBe(0);
    expect(measured.duplicated).toBe(0);
    // The outage changes no data: trees and records equal those of the same run without it.
    const clean = await createRun({ ...spec, tasks });
    expect((await waitForEnd(clean)).status).toBe('completed');
    expect(await runOutputs(id, tasks)).toEqual(await runOutputs(clean, tasks));
  });

  it('queue.send failing once during a dispatch: the outbox re-sends, trees and records equal the fault-free run', async () => {
    await registerSim();
    const bucket = await runCompletedHook();
    const tasks = [0, 1];
    const clean = await createRun({ ...spec, tasks });
    expect((await waitForEnd(clean)).status).toBe('completed');

    const created = Date.now();
    const faulty = await createRun({ ...spec, tasks });
    const tree = taskTreeStub(env, faulty, 0);
    await eventually(async () => (await tree.progress()) !== null);
    const fault: Fault = { on: true, hits: 0 };
    await patchBindings(tree, (real) => ({ EXPAND: faultyQueue(real.EXPAND, fault, true) }));
    const start = Date.now();
    const run = await waitForEnd(faulty);
    const ended = Date.now();
    console.log(`queue.send failed ${fault.hits}x; the run ended ${ended - start} ms later: ${run.status}`);
    await eventually(async () => (await receivedFor(bucket, faulty)).length > 0, 200);
    await new Promise((r) => setTimeout(r, 1500));
    const webhooks = (await receivedFor(bucket, faulty)).length;
    const measured = await measureRun(faulty, tasks);
    const vsClean = contentDiff((await measureRun(clean, tasks)).contents, measured.contents);
    const [faultyOut, cleanOut] = [await runOutputs(faulty, tasks), await runOutputs(clean, tasks)];
    await reportFaultResult({
      scenario: 'queue_send_fails_once_in_dispatch',
      status: run.status,
      endS: (ended - created) / 1000,
      lost: measured.lost + vsClean.lost,
      duplicated: measured.duplicated + vsClean.duplicated,
      webhooks,
      facts: {
        queue_send_failures: fault.hits,
        failed_jobs: run.counters.failedJobs ?? 0,
        records: measured.records,
        index_rows: measured.indexRows,
        records_identical: JSON.stringify(faultyOut) === JSON.stringify(cleanOut),
      },
    });
    expect(fault.hits).toBe(1);
    expect(run.status).toBe('completed');
    expect(run.counters.failedJobs).toBe(0);
    expect(faultyOut).toEqual(cleanOut);
    await expectSettled(clean, bucket);
    await expectSettled(faulty, bucket);
    expect(webhooks).toBe(1);
    expect(measured.records).toBeGreaterThan(0);
    expect(vsClean).toEqual({ lost: 0, duplicated: 0 });
    expect(measured.lost).toBe(0);
    expect(measured.duplicated).toBe(0);
  });

  it('a 3 MB completion on one expansion is cut with a marker; the build completes', async () => {
    // A real loopback HTTP server (the fault proxy over sim-policy) answers one request with 3 MB.
    const proxy = await proxySpace({ bigCompletions: 1, chars: 3_000_000 });
    const bucket = await runCompletedHook();
    const name = `big-${crypto.randomUUID().slice(0, 6)}`;
    const put = await api(`/v1/endpoints/${name}`, {
      method: 'PUT',
      json: { baseUrl: proxy.llm, model: 'sim-policy', maxConcurrency: 8 },
    });
    expect(put.status).toBe(200);
    const tasks = [0, 1, 2, 3];
    const start = Date.now();
    const id = await createRun({ ...spec, tasks, policy: name });
    const run = await waitForEnd(id);
    console.log(`3 MB completion: run ${run.status} in ${Date.now() - start} ms`);
    expect((await proxy.stats()).bigServed).toBe(1);
    // Cut to what fits a child's prompt (a sixth of the 8192-token context at 3 characters a
    // token): the expansions below it fit, the run completes with no failed job.
    const reasons: string[] = [];
    for (const task of tasks) {
      const progress = (await (await api(`/v1/runs/${id}/tasks/${task}`)).json()) as {
        failures: { reason: string }[];
      };
      reasons.push(...progress.failures.map((f) => f.reason));
    }
    expect(reasons).toEqual([]);
    expect(run.status).toBe('completed');
    expect(run.counters.failedJobs).toBe(0);
    expect(run.counters.tasksDone).toBe(tasks.length);
    const cut = (await allNodes(id, tasks)).filter((n) =>
      n.response.includes('[agent-r: completion truncated'),
    );
    expect(cut).toHaveLength(1);
    expect(cut[0]!.response.length).toBeLessThan(3846 + 200);
    expect(cut[0]!.response).toMatch(/completion truncated: \d+ characters, the cap is 3846\]$/);
    await expectSettled(id, bucket);
  });

  it('a 3 MB observation from an AgentGym server is cut with a marker; the build completes', async () => {
    // No real AgentGym server answers with 3 MB: the proxy in front of the TextCraft fake adds it.
    const proxy = await proxySpace({ bigObservations: 1, chars: 3_000_000 });
    await registerSim();
    const bucket = await runCompletedHook();
    const tasks = [3, 4];
    const start = Date.now();
    const id = await createRun({
      ...spec,
      tasks,
      env: 'agentgym',
      flavor: 'textcraft',
      envServer: proxy.env,
      maxObservationChars: 100_000,
    });
    const run = await waitForEnd(id);
    const failures: string[] = [];
    for (const task of tasks) {
      const progress = (await (await api(`/v1/runs/${id}/tasks/${task}`)).json()) as {
        status: string;
        failures: { reason: string }[];
      };
      failures.push(...progress.failures.map((f) => `task ${task}: ${f.reason}`));
    }
    const stats = await proxy.stats();
    console.log(
      `3 MB observation: run ${run.status} in ${Date.now() - start} ms, served again ${stats.bigRepeated}x ` +
        `(replays); ${failures.join(' | ')}`,
    );
    expect(failures).toEqual([]);
    expect(stats.bigServed).toBe(1);
    // The configured 100000 is more than fits the context: the context's cap applies.
    expect(run.status).toBe('completed');
    expect(run.counters.failedJobs).toBe(0);
    expect(run.counters.tasksDone).toBe(tasks.length);
    const cut = (await allNodes(id, tasks)).filter((n) =>
      n.observation.includes('[agent-r: observation truncated'),
    );
    // One state answers big; every node that reached it (siblings whose responses parse to the
    // same action) holds the same cut text.
    expect(cut.length).toBeGreaterThanOrEqual(1);
    expect(new Set(cut.map((n) => n.observation)).size).toBe(1);
    expect(cut[0]!.observation).toMatch(/observation truncated: \d+ characters, the cap is 3846\]$/);
    await expectSettled(id, bucket);
  });
});
