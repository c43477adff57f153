import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { z } from 'zod';
import { dataCardSchema } from '../../shared/contracts/datacard';
import {
  datasetListSchema,
  datasetViewSchema,
  generalChatListSchema,
  generalChatViewSchema,
} from '../../shared/contracts/datasets';
import {
  endpointListSchema,
  publicEndpointSchema,
  savedEndpointSchema,
} from '../../shared/contracts/endpoints';
import { errorEnvelopeSchema } from '../../shared/contracts/errors';
import { evalListSchema, evalViewSchema } from '../../shared/contracts/eval';
import { iterationViewSchema, loopListSchema, loopViewSchema } from '../../shared/contracts/loops';
import { runManifestSchema } from '../../shared/contracts/manifest';
import {
  runDetailSchema,
  runListSchema,
  runViewSchema,
  taskListSchema,
  taskProgressViewSchema,
  trajectoryPageSchema,
} from '../../shared/contracts/run-view';
import { exportedTreeFileSchema } from '../../shared/contracts/tree-file';
import { api, eventually } from './helpers';

// Every main route's answer against its schema in shared/contracts: the body must parse, and
// parsing must give the body back unchanged (zod drops unknown keys, so a field the route sends
// that the contract does not list fails here, as does a missing or mistyped one).

async function conforms<S extends z.ZodType>(
  schema: S,
  response: Response | Promise<Response>,
  status: number,
): Promise<z.output<S>> {
  const res = await response;
  const text = await res.text();
  expect(res.status, text.slice(0, 500)).toBe(status);
  const body = JSON.parse(text) as unknown;
  const parsed = schema.safeParse(body);
  expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 5))).toBe(true);
  expect(parsed.data).toEqual(body);
  return parsed.data as z.output<S>;
}

const finalRun = ['completed', 'partial', 'failed', 'cancelled'];
let runId = '';

describe('API responses parse with their shared/contracts schemas', () => {
  beforeAll(async () => {
    await conforms(
      savedEndpointSchema,
      api('/v1/endpoints/sim', {
        method: 'PUT',
        json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy', maxConcurrency: 8 },
      }),
      200,
    );
    const run = await conforms(
      runViewSchema,
      api('/v1/runs', {
        method: 'POST',
        json: { tasks: [0, 1], iterations: 3, width: 3, depth: 6, seed: 3 },
      }),
      201,
    );
    runId = run.id;
    await eventually(
      async () => {
        const view = runViewSchema.parse(await (await api(`/v1/runs/${runId}`)).json());
        return finalRun.includes(view.status);
      },
      1200,
      50,
    );
  }, 120_000);

  it('endpoints', async () => {
    const list = await conforms(endpointListSchema, api('/v1/endpoints'), 200);
    expect(list.endpoints.map((e) => e.name)).toContain('sim');
    await conforms(publicEndpointSchema, api('/v1/endpoints/sim'), 200);
  });

  it('runs, the run view, its tasks, trees, trajectories and manifest', async () => {
    const list = await conforms(runListSchema, api('/v1/runs?limit=5'), 200);
    expect(list.runs.map((r) => r.id)).toContain(runId);
    const detail = await conforms(runDetailSchema, api(`/v1/runs/${runId}`), 200);
    expect(detail.status).toBe('completed');
    const tasks = await conforms(taskListSchema, api(`/v1/runs/${runId}/tasks`), 200);
    expect(tasks.tasks.map((t) => t.task)).toEqual([0, 1]);
    await conforms(taskProgressViewSchema, api(`/v1/runs/${runId}/tasks/0`), 200);
    const tree = await conforms(exportedTreeFileSchema, api(`/v1/runs/${runId}/tasks/0/tree`), 200);
    expect(tree.task).toBe(0);
    await conforms(trajectoryPageSchema, api(`/v1/runs/${runId}/trajectories?limit=5`), 200);
    const manifest = await conforms(runManifestSchema, api(`/v1/runs/${runId}/manifest`), 200);
    expect(manifest.run_id).toBe(runId);
    await conforms(dataCardSchema, api(`/v1/runs/${runId}/datacard`), 200);
  });

  it('evals', async () => {
    const created = await conforms(
      evalViewSchema,
      api('/v1/evals', { method: 'POST', json: { policy: 'sim', tasks: [0], rounds: 5 } }),
      201,
    );
    const done = await eventually(
      async () => {
        const view = evalViewSchema.parse(await (await api(`/v1/evals/${created.id}`)).json());
        return view.status !== 'running' ? view : null;
      },
      1200,
      50,
    );
    expect(done.metrics).not.toBeNull();
    await conforms(evalViewSchema, api(`/v1/evals/${created.id}`), 200);
    await conforms(evalListSchema, api('/v1/evals?limit=3'), 200);
  });

  it('loops and iterations', async () => {
    const loop = await conforms(
      loopViewSchema,
      api('/v1/loops', {
        method: 'POST',
        json: {
          name: 'contract',
          build: { tasks: [0], iterations: 1, width: 1, depth: 3 },
          iterations: 1,
          auto: false,
        },
      }),
      201,
    );
    await conforms(loopViewSchema, api(`/v1/loops/${loop.id}`), 200);
    await conforms(loopListSchema, api('/v1/loops'), 200);
    await conforms(iterationViewSchema, api(`/v1/iterations/${loop.iterations[0]!.id}`), 200);
  });

  it('datasets, general chat and data cards', async () => {
    const chat = '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n';
    const stored = await conforms(
      generalChatViewSchema,
      api('/v1/datasets/general-chat/contract', {
        method: 'PUT',
        body: chat,
        headers: { 'content-type': 'application/x-ndjson' },
      }),
      201,
    );
    await conforms(generalChatListSchema, api('/v1/datasets/general-chat'), 200);
    const dataset = await conforms(
      datasetViewSchema,
      api('/v1/datasets', {
        method: 'POST',
        json: { name: 'contract', runIds: [runId], generalChatKey: stored.key, eta: 0.5 },
      }),
      201,
    );
    expect(dataset.status).toBe('ready');
    await conforms(datasetViewSchema, api(`/v1/datasets/${dataset.id}`), 200);
    await conforms(datasetListSchema, api('/v1/datasets'), 200);
    await conforms(dataCardSchema, api(`/v1/datasets/${dataset.id}/datacard`), 200);
  });

  it('the error envelope, for a missing record, a bad body, a bad token and an unknown route', async () => {
    const missing = await conforms(errorEnvelopeSchema, api('/v1/runs/no-such-run'), 404);
    expect(missing.error.code).toBe('not_found');
    await conforms(errorEnvelopeSchema, api('/v1/runs', { method: 'POST', json: { tasks: 'x-y' } }), 400);
    await conforms(errorEnvelopeSchema, api('/v1/runs', { token: 'wrong' }), 401);
    await conforms(errorEnvelopeSchema, api('/v1/nothing-here'), 404);
  });
});
