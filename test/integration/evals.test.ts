import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SIGNATURE_HEADER, verifySignature } from '../../shared/webhooks/signing';
import { api, eventually } from './helpers';
import type { EvalView } from '../../shared/contracts/eval';

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function createEval(body: unknown): Promise<EvalView> {
  return json<EvalView>(await api('/v1/evals', { method: 'POST', json: body }), 201);
}

async function waitForEval(id: string): Promise<EvalView> {
  return eventually(
    async () => {
      const view = await json<EvalView>(await api(`/v1/evals/${id}`), 200);
      return view.status !== 'running' ? view : null;
    },
    1200,
    50,
  );
}

async function runSpec(id: string): Promise<{ spec: Record<string, unknown>; status: string }> {
  return json(await api(`/v1/runs/${id}`), 200);
}

// Deep goals of the default world (depth 4): no greedy rollout solves them in 2 steps.
const DEEP = [204, 209];

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy', maxConcurrency: 8 },
  });
  expect(put.status).toBe(200);
});

describe('evals: a greedy run per task set, metrics from its trees', () => {
  it('runs the policy greedily on the held-out tasks and reports the metrics', async () => {
    const created = await createEval({ policy: 'sim', tasks: '4,9', rounds: 20, label: 'held-out' });
    expect(created).toMatchObject({
      status: 'running',
      phase: 'evaluating',
      spec: { tasks: [4, 9], rounds: 20 },
    });
    const run = await runSpec(created.runId!);
    expect(run.spec).toMatchObject({
      tasks: [4, 9],
      iterations: 1,
      width: 1,
      temperature: 0,
      depth: 19,
      transition: 'end',
    });

    const done = await waitForEval(created.id);
    expect(done.status).toBe('completed');
    expect(done.phase).toBe('done');
    const m = done.metrics!;
    expect(m.tasks).toBe(2);
    expect(m.scored).toBe(2);
    // sim-policy plays without mistakes at temperature 0: both goals are crafted.
    expect(m.successRate).toBe(1);
    expect(m.averageReward).toBe(1);
    expect(m.loops.share).toBe(0);
    expect(m.recovery).toBeNull();
    for (const task of m.perTask) expect(task.steps).toBeGreaterThan(0);

    // The tree of an eval run is a single chain: one greedy rollout.
    const tree = await json<{ root: { children: unknown[] } }>(
      await api(`/v1/runs/${created.runId}/tasks/4/tree`),
      200,
    );
    let node = tree.root as { children: { children: unknown[] }[] };
    let length = 0;
    while (node.children.length > 0) {
      expect(node.children).toHaveLength(1);
      node = node.children[0] as typeof node;
      length++;
    }
    expect(length).toBe(m.perTask.find((t) => t.task === 4)!.steps);
  });

  it('defaults to the world held-out split and honours maxTasks', async () => {
    const created = await createEval({ policy: 'sim', maxTasks: 2, rounds: 5 });
    expect(created.spec.tasks).toEqual([4, 9]);
    await waitForEval(created.id);
  });

  it('runs the recovery test on its own failed trajectories, cut at a seeded step', async () => {
    // Two steps are not enough for a deep goal: every rollout fails, then each is cut and continued.
    const created = await createEval({
      policy: 'sim',
      tasks: DEEP,
      rounds: 2,
      recovery: { cutSeed: 3, rounds: 30 },
    });
    expect(created.recovery).toMatchObject({ sourceRunId: created.runId, runId: null, tasks: null });
    const done = await waitForEval(created.id);
    expect(done.status).toBe('completed');
    expect(done.metrics!.successRate).toBe(0);
    expect(done.metrics!.perTask.every((t) => t.steps === 2)).toBe(true);
    expect(done.recovery!.runId).toMatch(/^run_/);
    expect(done.recovery!.tasks).toBe(2);
    const recovery = done.metrics!.recovery!;
    expect(recovery.tasks).toBe(2);
    expect(recovery.scored).toBe(2);
    // A two-step failure is cut after its first step.
    expect(recovery.perTask.map((t) => t.cutStep)).toEqual([1, 1]);
    expect(recovery.successRate).not.toBeNull();

    const recoveryRun = await runSpec(done.recovery!.runId!);
    const startFrom = recoveryRun.spec.startFrom as Record<string, string[]>;
    expect(Object.keys(startFrom).sort()).toEqual(DEEP.map(String));
    for (const responses of Object.values(startFrom)) expect(responses).toHaveLength(1);
    expect(recoveryRun.spec).toMatchObject({ temperature: 0, width: 1, iterations: 1, depth: 29 });
  });

  it('cuts the failures of another run (fromRun) and notes when there is nothing to cut', async () => {
    const source = await createEval({ policy: 'sim', tasks: DEEP, rounds: 2 });
    const sourceDone = await waitForEval(source.id);
    expect(sourceDone.metrics!.successRate).toBe(0);

    const created = await createEval({
      policy: 'sim',
      tasks: [...DEEP, 4],
      rounds: 30,
      recovery: { fromRun: source.runId, cutSeed: 1 },
    });
    const done = await waitForEval(created.id);
    expect(done.recovery!.sourceRunId).toBe(source.runId);
    // Task 4 is not in the source run: only the source's failures are cut.
    expect(done.metrics!.recovery!.perTask.map((t) => t.task).sort()).toEqual(DEEP);
    expect(done.metrics!.successRate).toBe(1);

    const clean = await createEval({ policy: 'sim', tasks: [4], rounds: 20, recovery: {} });
    const cleanDone = await waitForEval(clean.id);
    expect(cleanDone.status).toBe('completed');
    expect(cleanDone.recovery).toMatchObject({ runId: null, tasks: 0 });
    expect(cleanDone.recovery!.note).toMatch(/no failed trajectory/);
    expect(cleanDone.metrics!.recovery).toMatchObject({ tasks: 0, successRate: null });
  });

  it('emits eval.completed to subscribed webhooks', async () => {
    const bucket = `evals${Date.now().toString(36)}`;
    const secret = 'eval-webhook-secret-0001';
    const hook = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: `${inject('webhookReceiverUrl')}/hook/${bucket}`, events: ['eval.completed'], secret },
    });
    expect(hook.status).toBe(201);
    const created = await createEval({ policy: 'sim', tasks: [9], rounds: 20 });
    await waitForEval(created.id);
    const received = await eventually(async () => {
      const list = (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as {
        headers: Record<string, string>;
        body: string;
      }[];
      return list.find((r) => JSON.parse(r.body).data.evalId === created.id);
    }, 400);
    expect((await verifySignature(secret, received.body, received.headers[SIGNATURE_HEADER])).ok).toBe(true);
    expect(JSON.parse(received.body)).toMatchObject({
      event: 'eval.completed',
      data: { evalId: created.id, status: 'completed', successRate: 1, tasks: 1, policy: 'sim' },
    });
    await api(`/v1/webhooks/${((await hook.json()) as { id: string }).id}`, { method: 'DELETE' });
  });

  it('refuses unknown policies, runs and iterations, and incomplete agentgym requests', async () => {
    const unknown = await api('/v1/evals', { method: 'POST', json: { policy: 'nope', tasks: [1] } });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'unknown_endpoint' } });
    const noRun = await api('/v1/evals', {
      method: 'POST',
      json: { policy: 'sim', tasks: [1], recovery: { fromRun: 'run_missing' } },
    });
    expect(noRun.status).toBe(404);
    const noIteration = await api('/v1/evals', {
      method: 'POST',
      json: { policy: 'sim', tasks: [1], iterationId: 'itr_missing' },
    });
    expect(noIteration.status).toBe(404);
    const agentgym = await api('/v1/evals', {
      method: 'POST',
      json: { policy: 'sim', env: 'agentgym', flavor: 'textcraft', envServer: 'http://127.0.0.1:1' },
    });
    expect(agentgym.status).toBe(400);
    expect(JSON.stringify(await agentgym.json())).toMatch(/explicit tasks/);
    expect((await api('/v1/evals/eval_missing')).status).toBe(404);
    expect((await api('/v1/evals', { token: null })).status).toBe(401);
  });

  it('documents the eval, loop and iteration routes in the OpenAPI document', async () => {
    const doc = await json<{ paths: Record<string, unknown> }>(
      await api('/openapi.json', { token: null }),
      200,
    );
    for (const path of [
      '/v1/evals',
      '/v1/evals/{id}',
      '/v1/loops',
      '/v1/loops/{id}',
      '/v1/iterations/{id}',
      '/v1/iterations/{id}/next',
      '/v1/iterations/{id}/callback',
      '/v1/iterations/{id}/files/{file}',
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
  });

  it('lists evals newest first', async () => {
    const list = await json<{ evals: EvalView[] }>(await api('/v1/evals?limit=3'), 200);
    expect(list.evals.length).toBeGreaterThan(0);
    expect(list.evals.length).toBeLessThanOrEqual(3);
  });
});
