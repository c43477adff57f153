import { env as workerEnv } from 'cloudflare:workers';
import { dataCardSchema } from '../../shared/contracts/datacard';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { SIGNATURE_HEADER, signatureHeader, verifySignature } from '../../shared/webhooks/signing';
import { api, eventually } from './helpers';
import type { IterationView, LoopConfig, LoopView, TrainerPayload } from '../../shared/contracts/loops';
import type { RunManifest } from '../../shared/contracts/manifest';
import type { WebhookDeliveryBody } from '../../shared/contracts/webhooks';

const SECRET = 'trainer-secret-0123456789';

interface Received {
  headers: Record<string, string>;
  body: string;
}
/** A `dataset.ready` delivery as the trainer receives it (its manifest is a run's manifest.json). */
type Delivery = Omit<WebhookDeliveryBody, 'data'> & {
  data: Omit<TrainerPayload, 'manifest'> & { manifest: RunManifest };
};

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const loopView = async (id: string) => json<LoopView>(await api(`/v1/loops/${id}`), 200);

async function received(bucket: string): Promise<Received[]> {
  return (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as Received[];
}

/** The n-th (1-based) dataset.ready delivery in the bucket, once it arrived; signature checked. */
async function delivery(bucket: string, n: number): Promise<Delivery> {
  const got = await eventually(async () => {
    const list = await received(bucket);
    return list.length >= n ? list[n - 1] : null;
  }, 1200);
  expect((await verifySignature(SECRET, got.body, got.headers[SIGNATURE_HEADER])).ok).toBe(true);
  expect(got.headers['x-agent-r-event']).toBe('dataset.ready');
  return JSON.parse(got.body) as Delivery;
}

/** A URL handed out by the API (origin http://agent-r.test) fetched through the test worker. */
const local = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** POSTs a signed callback to the payload's callback.url, or (an id) to the bare path without a link. */
async function callback(target: string, body: unknown, secret = SECRET): Promise<Response> {
  const text = JSON.stringify(body);
  const path = target.startsWith('http') ? local(target) : `/v1/iterations/${target}/callback`;
  return api(path, {
    method: 'POST',
    body: text,
    token: null,
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: await signatureHeader(secret, text) },
  });
}

const simBase = () => `${inject('simPolicyUrl')}/v1`;
const small = { tasks: [0, 1], iterations: 2, width: 2, depth: 5 };

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: simBase(), model: 'sim-policy', maxConcurrency: 8 },
  });
  expect(put.status).toBe(200);
});

describe('iteration loops: build -> signed dataset webhook -> trainer callback -> next iteration', () => {
  it('runs two automatic iterations with evals, signed downloads and callbacks, then the final eval', async () => {
    const bucket = `loop${Date.now().toString(36)}`;
    const created = await json<LoopView>(
      await api('/v1/loops', {
        method: 'POST',
        json: {
          name: 'two rounds',
          policy: 'sim',
          build: small,
          iterations: 2,
          trainerUrl: `${inject('webhookReceiverUrl')}/hook/${bucket}`,
          trainerSecret: SECRET,
          evalTasks: [4],
          eval: { rounds: 20 },
        },
      }),
      201,
    );
    expect(created.status).toBe('running');
    expect(created.iterations).toHaveLength(1);
    expect(created.iterations[0]).toMatchObject({ index: 1, alpha: 0.5, policy: { endpoint: 'sim' } });
    expect(created.iterations[0]!.evalId).toMatch(/^eval_/);
    const run1 = await json<{ spec: Record<string, unknown> }>(
      await api(`/v1/runs/${created.iterations[0]!.runId}`),
      200,
    );
    expect(run1.spec).toMatchObject({ ...small, alpha: 0.5, policy: 'sim' });

    // Iteration 1's data is ready: the trainer gets a signed webhook with links and the manifest.
    const first = await delivery(bucket, 1);
    expect(first.event).toBe('dataset.ready');
    expect(first.data.iteration).toMatchObject({ index: 1, alpha: 0.5, id: created.iterations[0]!.id });
    expect(first.data.policy).toMatchObject({ endpoint: 'sim', baseUrl: simBase(), model: 'sim-policy' });
    expect(first.data.manifest.run_id).toBe(created.iterations[0]!.runId);
    const records = first.data.manifest.counts.revision + first.data.manifest.counts.good;
    expect(records).toBeGreaterThan(0);

    // The links work without a token; a changed link does not.
    const native = await api(local(first.data.downloads.datasets.native!), { token: null });
    expect(native.status).toBe(200);
    const lines = new TextDecoder()
      .decode(await native.arrayBuffer())
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(records);
    // The data card of exactly these records rides along (the build spec's curation: reference).
    const card = dataCardSchema.parse(first.data.datacard);
    expect(card).toMatchObject({ curation: 'reference', scope: { kind: 'run', id: first.data.run.id } });
    expect(card.after.records).toBe(records);
    expect(JSON.parse(lines[0]!)).toHaveProperty('run_id', first.data.run.id);
    const manifest = await json<{ run_id: string }>(
      await api(local(first.data.downloads.manifest), { token: null }),
      200,
    );
    expect(manifest.run_id).toBe(first.data.run.id);
    const moved = local(first.data.downloads.datasets.openai!).replace('all.openai', 'all.trl');
    expect((await api(moved, { token: null })).status).toBe(403);

    // While training, the iteration waits; a callback with a wrong signature is refused.
    const training = await loopView(created.id);
    expect(training.iterations[0]).toMatchObject({
      status: 'training',
      trainerDelivery: { status: 'delivered' },
    });
    // Once delivered, the stored payload keeps no working signed link (the trainer has them).
    const stored = await (workerEnv as unknown as { DB: D1Database }).DB.prepare(
      "SELECT payload FROM webhook_deliveries WHERE event = 'dataset.ready'",
    ).all<{
      payload: string;
    }>();
    expect(stored.results.length).toBeGreaterThan(0);
    for (const row of stored.results) {
      expect(row.payload).not.toMatch(/signature=[0-9a-f]{64}/);
      expect(row.payload).toContain('signature=redacted');
    }
    expect(
      (
        await callback(
          first.data.callback.url,
          { endpoint: { baseUrl: simBase(), model: 'x' } },
          'wrong-secret-0000000000',
        )
      ).status,
    ).toBe(401);

    const model1 = { endpoint: { baseUrl: simBase(), model: 'sim-policy-it1' }, notes: { loss: 0.5 } };
    // Without the signed link (the bare path) even a well-signed callback is refused, as for an unknown id.
    expect((await callback(created.iterations[0]!.id, model1)).status).toBe(401);
    const done1 = await json<IterationView>(await callback(first.data.callback.url, model1), 200);
    expect(done1).toMatchObject({
      status: 'completed',
      resultEndpoint: `${created.id}-m2`,
      notes: { loss: 0.5 },
    });
    // A redelivered callback changes nothing; another model is refused.
    expect((await callback(first.data.callback.url, model1)).status).toBe(200);
    expect(
      (await callback(first.data.callback.url, { endpoint: { baseUrl: simBase(), model: 'other' } })).status,
    ).toBe(409);
    const endpoint = await json<{ model: string; baseUrl: string }>(
      await api(`/v1/endpoints/${created.id}-m2`),
      200,
    );
    expect(endpoint).toMatchObject({ model: 'sim-policy-it1', baseUrl: simBase() });

    // Iteration 2 started automatically with the new model and the next alpha.
    const second = await delivery(bucket, 2);
    expect(second.data.iteration).toMatchObject({ index: 2, alpha: 0.7 });
    expect(second.data.policy).toMatchObject({ endpoint: `${created.id}-m2`, model: 'sim-policy-it1' });
    const run2 = await json<{ spec: Record<string, unknown> }>(
      await api(`/v1/runs/${second.data.run.id}`),
      200,
    );
    expect(run2.spec).toMatchObject({ alpha: 0.7, policy: `${created.id}-m2` });
    expect(
      (
        await callback(second.data.callback.url, {
          endpoint: { baseUrl: simBase(), model: 'sim-policy-it2' },
        })
      ).status,
    ).toBe(200);

    // After the last iteration the loop is completed and the final model is evaluated.
    const finished = await eventually(async () => {
      const view = await loopView(created.id);
      return view.final?.eval && view.final.eval.status !== 'running' ? view : null;
    }, 1200);
    expect(finished.status).toBe('completed');
    expect(finished.final).toMatchObject({
      endpoint: `${created.id}-m3`,
      eval: { status: 'completed', successRate: 1 },
    });
    expect(
      finished.iterations.map((it) => [it.index, it.status, it.alpha, it.policy.endpoint, it.resultEndpoint]),
    ).toEqual([
      [1, 'completed', 0.5, 'sim', `${created.id}-m2`],
      [2, 'completed', 0.7, `${created.id}-m2`, `${created.id}-m3`],
    ]);
    for (const it of finished.iterations) {
      expect(it.run?.status).toBe('completed');
      expect(it.run?.counts?.tasks).toBe(2);
      expect(it.eval).toMatchObject({ status: 'completed', successRate: 1 });
    }
    const evalsOfFirst = await json<{ evals: { id: string; iterationId: string }[] }>(
      await api(`/v1/evals?iterationId=${created.iterations[0]!.id}`),
      200,
    );
    expect(evalsOfFirst.evals.map((e) => e.id)).toEqual([created.iterations[0]!.evalId]);
    // The trainer's webhook row takes no global events.
    const hooks = await json<{ webhooks: { url: string; events: string[] }[] }>(
      await api('/v1/webhooks'),
      200,
    );
    expect(hooks.webhooks.find((h) => h.url.includes(bucket))?.events).toEqual([]);
    expect(await received(bucket)).toHaveLength(2);
  });

  it('waits for POST /next in a manual loop without a trainer', async () => {
    const created = await json<LoopView>(
      await api('/v1/loops', {
        method: 'POST',
        json: {
          name: 'by hand',
          build: { tasks: [0], iterations: 1, width: 1, depth: 3 },
          iterations: 2,
          auto: false,
        },
      }),
      201,
    );
    const first = created.iterations[0]!;
    await eventually(
      async () => ((await loopView(created.id)).iterations[0]!.status === 'training' ? true : null),
      1200,
    );
    // No trainer: no signed callback link exists (401, as for any bad link); the model goes to /next.
    expect((await callback(first.id, { endpoint: { baseUrl: simBase(), model: 'm' } })).status).toBe(401);
    const needsModel = await api(`/v1/iterations/${first.id}/next`, { method: 'POST' });
    expect(needsModel.status).toBe(409);
    expect(await needsModel.json()).toMatchObject({ error: { code: 'needs_model' } });
    const second = await json<IterationView>(
      await api(`/v1/iterations/${first.id}/next`, {
        method: 'POST',
        json: { endpoint: { baseUrl: simBase(), model: 'by-hand-1' } },
      }),
      200,
    );
    expect(second).toMatchObject({
      index: 2,
      status: 'building',
      alpha: 0.7,
      policy: { endpoint: `${created.id}-m2` },
    });
    expect((await api(`/v1/iterations/${first.id}/next`, { method: 'POST' })).status).toBe(200); // already started: same
    await eventually(
      async () => ((await loopView(created.id)).iterations[1]?.status === 'training' ? true : null),
      1200,
    );
    await json(
      await api(`/v1/iterations/${second.id}/next`, {
        method: 'POST',
        json: { endpoint: { baseUrl: simBase(), model: 'by-hand-2' } },
      }),
      200,
    );
    const finished = await loopView(created.id);
    expect(finished).toMatchObject({
      status: 'completed',
      final: { endpoint: `${created.id}-m3`, evalId: null },
    });
    expect((await api(`/v1/iterations/${second.id}/next`, { method: 'POST' })).status).toBe(409);
  });

  it('ends a loop whose build has nothing to train on with a "no revision data" iteration, not an error', async () => {
    const bucket = `nodata${Date.now().toString(36)}`;
    // One step deep on a goal that needs several: no leaf succeeds, so no pair and no good path.
    const created = await json<LoopView>(
      await api('/v1/loops', {
        method: 'POST',
        json: {
          name: 'nothing to learn',
          build: { tasks: [203], iterations: 1, width: 1, depth: 1 },
          iterations: 2,
          trainerUrl: `${inject('webhookReceiverUrl')}/hook/${bucket}`,
          trainerSecret: SECRET,
          evalTasks: [4],
          eval: { rounds: 2 },
        },
      }),
      201,
    );
    const loop = await eventually(async () => {
      const view = await loopView(created.id);
      return view.status === 'completed' ? view : null;
    }, 1200);
    const only = loop.iterations[0]!;
    expect(loop.iterations).toHaveLength(1);
    expect(only).toMatchObject({
      status: 'no_data',
      run: { status: 'completed', counts: { revision: 0, good: 0 } },
    });
    expect((only as IterationView & { error: string }).error).toMatch(/^no revision data: build run run_/);
    // The final model is the iteration's policy, evaluated once (the iteration's own eval).
    expect(loop.final).toMatchObject({ endpoint: 'sim', evalId: only.evalId });
    // Nothing was sent to the trainer.
    expect(only.trainerDelivery).toBeNull();
    expect(await received(bucket)).toEqual([]);
  });

  it('validates loops and reports unknown ids', async () => {
    const noSecret = await api('/v1/loops', {
      method: 'POST',
      json: { name: 'x', trainerUrl: 'http://127.0.0.1:9/t' },
    });
    expect(noSecret.status).toBe(400);
    const unknownPolicy = await api('/v1/loops', { method: 'POST', json: { name: 'x', policy: 'nope' } });
    expect(unknownPolicy.status).toBe(400);
    expect(await unknownPolicy.json()).toMatchObject({ error: { code: 'unknown_endpoint' } });
    expect((await api('/v1/loops/loop_missing')).status).toBe(404);
    expect((await api('/v1/iterations/itr_missing')).status).toBe(404);
    // An unknown iteration answers like a bad signature (nothing to probe ids with).
    expect((await callback('itr_missing', { endpoint: { baseUrl: simBase(), model: 'm' } })).status).toBe(
      401,
    );
    expect((await api('/v1/loops', { token: null })).status).toBe(401);
  });

  it('builds crafting loops on training tasks only (outside the held-out set)', async () => {
    const created = await json<LoopView>(
      await api('/v1/loops', {
        method: 'POST',
        json: { name: 'defaults', build: { iterations: 1, width: 1, depth: 2 }, iterations: 1, auto: false },
      }),
      201,
    );
    const { build } = created.config as unknown as LoopConfig;
    expect(build.tasks).toHaveLength(20);
    expect(build.tasks.some((t) => t % 5 === 4)).toBe(false);
  });
});
