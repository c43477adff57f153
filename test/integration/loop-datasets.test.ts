import { env as workerEnv } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { dataCardSchema } from '../../shared/contracts/datacard';
import { exportManifestSchema } from '../../shared/formats/manifest';
import { api, eventually } from './helpers';
import type { DatasetView } from '../../shared/contracts/datasets';
import type { IterationView, LoopView } from '../../shared/contracts/loops';

// Loops that pool several build specs and assemble ONE dataset per iteration (real D1 and R2 under
// workerd): the assembled dataset's manifest and card, tokens-based eta with a validation split,
// clear refusals of bad loop specs, and the dataset step's recovery after an interrupted assembly.

const DB = (workerEnv as unknown as { DB: D1Database }).DB;

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const general = Array.from({ length: 400 }, (_, i) =>
  JSON.stringify({
    conversations: [
      { from: 'human', value: `Name a colour, number ${i}.` },
      { from: 'gpt', value: `Colour number ${i} is ${['red', 'green', 'blue'][i % 3]}.` },
    ],
  }),
).join('\n');

const search = { iterations: 2, width: 2, depth: 5 };

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy', maxConcurrency: 8 },
  });
  expect(put.status).toBe(200);
  const upload = await api('/v1/datasets/general-chat/colours', {
    method: 'PUT',
    body: general,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expect(upload.status).toBe(201);
});

describe('loops with several builds and a dataset step', () => {
  it('refuses bad specs with a clear 400 before anything starts', async () => {
    const cases: [unknown, string, RegExp][] = [
      [
        { builds: [{ tasks: [0] }], dataset: { generalChatKey: 'general-chat/none.jsonl' } },
        'unknown_general_chat',
        /no general chat data at general-chat\/none\.jsonl/,
      ],
      [{ builds: [{ tasks: [0] }, { world: 'nowhere' }] }, 'unknown_world', /unknown world "nowhere"/],
      [{ builds: [] }, 'invalid_request', /builds/],
      [{ dataset: { eta: 0 } }, 'invalid_request', /eta/],
      [{ builds: [{ env: 'agentgym', flavor: 'textcraft' }] }, 'invalid_request', /needs its tasks/],
    ];
    for (const [extra, code, message] of cases) {
      const response = await api('/v1/loops', {
        method: 'POST',
        json: { name: 'bad', ...(extra as object) },
      });
      const body = await json<{ error: { code: string; message: string } }>(response, 400);
      expect(body.error.code, JSON.stringify(body)).toBe(code);
      expect(body.error.message).toMatch(message);
    }
    // The OpenAPI document knows the new fields and the signed download route.
    const doc = (await (await api('/openapi.json', { token: null })).json()) as {
      paths: Record<string, { post?: unknown }>;
    };
    expect(doc.paths).toHaveProperty(['/v1/iterations/{id}/files/{file}']);
    const loopBody = JSON.stringify(doc.paths['/v1/loops']?.post);
    for (const field of ['builds', 'generalChatKey', 'etaBasis', 'curationOptions'])
      expect(loopBody).toContain(field);
    const loops = await DB.prepare("SELECT COUNT(*) AS n FROM loops WHERE name = 'bad'").first<{
      n: number;
    }>();
    expect(loops?.n).toBe(0);
  });

  it('assembles one dataset from both builds (tokens eta, validation split) and recovers an interrupted assembly', async () => {
    const created = await json<LoopView>(
      await api('/v1/loops', {
        method: 'POST',
        json: {
          name: 'two worlds',
          policy: 'sim',
          build: search,
          builds: [{ tasks: [0, 1] }, { tasks: [2, 3], seed: 7, width: 3 }],
          dataset: {
            curation: 'clean',
            curationOptions: { maxPerTask: 3 },
            generalChatKey: 'general-chat/colours.jsonl',
            eta: 0.5,
            etaBasis: 'tokens',
            validationFraction: 0.2,
          },
          auto: false,
        },
      }),
      201,
    );
    const first = created.iterations[0]!;
    expect(first.runIds).toHaveLength(2);
    expect(first.runId).toBe(first.runIds[0]);
    const specs = [];
    for (const id of first.runIds)
      specs.push((await json<{ spec: Record<string, unknown> }>(await api(`/v1/runs/${id}`), 200)).spec);
    expect(specs[0]).toMatchObject({ ...search, tasks: [0, 1], alpha: 0.5 });
    expect(specs[1]).toMatchObject({ iterations: 2, width: 3, seed: 7, tasks: [2, 3], alpha: 0.5 });

    const training = await eventually(
      async () => {
        const view = await json<IterationView>(await api(`/v1/iterations/${first.id}`), 200);
        return view.status === 'training' || view.status === 'failed' ? view : null;
      },
      1200,
      100,
    );
    expect(training.status, training.error ?? '').toBe('training');
    const dataset = await json<DatasetView>(await api(`/v1/datasets/${training.datasetId}`), 200);
    expect(dataset.status).toBe('ready');
    expect(dataset.runIds).toEqual(first.runIds);
    const manifest = exportManifestSchema.parse(dataset.manifest);
    expect(manifest).toMatchObject({ run_ids: first.runIds, curation: 'clean', format: 'native' });
    expect(manifest.mixing).toMatchObject({ eta: 0.5, eta_basis: 'tokens', validation_fraction: 0.2 });
    expect(manifest.counts.general).toBeGreaterThan(0);
    expect(manifest.counts.general).toBeLessThan(400);
    // Tokens: general examples are added until their tokens reach the agent tokens, so the agent
    // share ends at or just under eta.
    expect(manifest.mixing!.achieved_eta).toBeLessThanOrEqual(0.5);
    expect(manifest.mixing!.achieved_eta).toBeGreaterThan(0.45);
    expect(manifest.files.map((f) => f.split).sort()).toEqual(['train', 'validation']);
    const card = dataCardSchema.parse(await json(await api(`/v1/datasets/${dataset.id}/datacard`), 200));
    expect(card.scope).toEqual({ kind: 'dataset', id: dataset.id });
    expect(card.after.records).toBe(manifest.counts.revision + manifest.counts.good);
    expect(new Set(card.by_task.map((t) => t.task))).toEqual(new Set([0, 1, 2, 3]));
    // curationOptions.maxPerTask: at most 3 records of a kind per task (default 32).
    expect(manifest.curation_options).toEqual({ maxPerTask: 3 });
    for (const t of card.by_task) expect(Math.max(t.revision, t.good)).toBeLessThanOrEqual(3);
    expect(card.curation_steps.find((s) => s.rule === 'cap-per-task')?.removed).toBeGreaterThan(0);

    // An assembly interrupted mid-way (the worker died): the iteration is `assembling` with a
    // dataset row still `building`, long ago. The next advance abandons it and assembles again.
    await DB.prepare(
      "INSERT INTO datasets (id, name, format, run_ids, manifest, status, created_at) VALUES ('ds_lost', 'lost', 'native', '[]', '{}', 'building', 0)",
    ).run();
    await DB.prepare(
      "UPDATE iterations SET status = 'assembling', dataset_id = 'ds_lost', updated_at = ? WHERE id = ?",
    )
      .bind(Date.now() - 60 * 60_000, first.id)
      .run();
    const resumed = await json<IterationView>(await api(`/v1/iterations/${first.id}`), 200);
    expect(resumed.status).toBe('training');
    expect(resumed.datasetId).not.toBe('ds_lost');
    const lost = await json<DatasetView>(await api('/v1/datasets/ds_lost'), 200);
    expect(lost).toMatchObject({ status: 'failed' });
    expect(lost.error).toMatch(/abandoned/);
    const again = exportManifestSchema.parse(
      (await json<DatasetView>(await api(`/v1/datasets/${resumed.datasetId}`), 200)).manifest,
    );
    // The same runs, seed and preset give the same dataset.
    expect(again.counts).toEqual(manifest.counts);
    expect(again.files.map((f) => f.sha256)).toEqual(manifest.files.map((f) => f.sha256));

    // The same once the gateway's reconciler has failed the dead assembly's dataset.
    await DB.prepare(
      "UPDATE iterations SET status = 'assembling', dataset_id = 'ds_lost', updated_at = ? WHERE id = ?",
    )
      .bind(Date.now() - 60 * 60_000, first.id)
      .run();
    const retried = await json<IterationView>(await api(`/v1/iterations/${first.id}`), 200);
    expect(retried.status).toBe('training');
    expect([null, 'ds_lost', resumed.datasetId]).not.toContain(retried.datasetId);

    // A recent `assembling` (another worker on it) is left alone.
    await DB.prepare(
      "UPDATE iterations SET status = 'assembling', dataset_id = 'ds_busy', updated_at = ? WHERE id = ?",
    )
      .bind(Date.now(), first.id)
      .run();
    const busy = await json<IterationView>(await api(`/v1/iterations/${first.id}`), 200);
    expect(busy).toMatchObject({ status: 'assembling', datasetId: 'ds_busy' });
  });

  it('starts a build run that was recorded but never started (a crash between the writes)', async () => {
    const created = await json<LoopView>(
      await api('/v1/loops', {
        method: 'POST',
        json: {
          name: 'crash between runs',
          policy: 'sim',
          build: { iterations: 1, width: 1, depth: 3 },
          builds: [{ tasks: [0] }, { tasks: [1] }],
          auto: false,
        },
      }),
      201,
    );
    const first = created.iterations[0]!;
    // As if the worker died after recording the iteration and starting only its first run: the
    // second build's run id names no run.
    const row = await DB.prepare('SELECT config FROM iterations WHERE id = ?')
      .bind(first.id)
      .first<{ config: string }>();
    const config = JSON.parse(row!.config) as { runs: { runId: string }[] };
    config.runs[1]!.runId = 'run_never_started';
    await DB.prepare('UPDATE iterations SET config = ? WHERE id = ?')
      .bind(JSON.stringify(config), first.id)
      .run();
    const done = await eventually(
      async () => {
        const view = await json<IterationView>(await api(`/v1/iterations/${first.id}`), 200);
        return ['training', 'failed', 'no_data'].includes(view.status) ? view : null;
      },
      1200,
      100,
    );
    expect(done.status, done.error ?? '').toBe('training');
    expect(done.runIds).toEqual([first.runIds[0], 'run_never_started']);
    const run = await json<{ status: string; spec: { tasks: number[] } }>(
      await api('/v1/runs/run_never_started'),
      200,
    );
    expect(run).toMatchObject({ status: 'completed', spec: { tasks: [1] } });
    const dataset = await json<DatasetView>(await api(`/v1/datasets/${done.datasetId}`), 200);
    expect(dataset.runIds).toEqual([first.runIds[0], 'run_never_started']);
  });
});
