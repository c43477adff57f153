import { env as workerEnv } from 'cloudflare:workers';
import type { CoordinatorBindings } from '../../workers/common/env';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, eventually } from './helpers';
import type { RunView } from '../../shared/contracts/run-view';

const env = workerEnv as unknown as CoordinatorBindings;

describe('walking skeleton: API -> D1 -> RunLedger -> TaskTree -> expand queue -> expander -> TaskTree', () => {
  beforeAll(async () => {
    const put = await api('/v1/endpoints/sim', {
      method: 'PUT',
      json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy' },
    });
    expect(put.status).toBe(200);
  });

  it('refuses a run naming an unknown endpoint or world with a clear 400', async () => {
    const noEndpoint = await api('/v1/runs', { method: 'POST', json: { tasks: [0], policy: 'nope' } });
    expect(noEndpoint.status).toBe(400);
    expect(((await noEndpoint.json()) as { error: { message: string } }).error.message).toContain(
      'unknown endpoint "nope"',
    );
    const noWorld = await api('/v1/runs', { method: 'POST', json: { tasks: [0], world: 'atlantis' } });
    expect(noWorld.status).toBe(400);
    expect(((await noWorld.json()) as { error: { code: string } }).error.code).toBe('unknown_world');
  });

  it('rejects /v1 calls without a valid bearer token with the JSON error envelope', async () => {
    const missing = await api('/v1/runs', { token: null });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await api('/v1/runs', { token: 'nope' });
    expect(wrong.status).toBe(401);
  });

  it('gives 4xx with a message for malformed bodies, never 500', async () => {
    const notJson = await api('/v1/runs', {
      method: 'POST',
      body: '{',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    const badSpec = await api('/v1/runs', { method: 'POST', json: { tasks: [], width: 'x' } });
    expect(badSpec.status).toBe(400);
    const body = (await badSpec.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/tasks|width/);
    const badRange = await api('/v1/runs', { method: 'POST', json: { tasks: '5-1' } });
    expect(badRange.status).toBe(400);
    const unknownRoute = await api('/v1/nothing-here');
    expect(unknownRoute.status).toBe(404);
  });

  it('creates a run and its tasks move through the queue to completion', async () => {
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: '0-2', iterations: 1, width: 2, depth: 4 },
    });
    expect(created.status).toBe(201);
    const run = (await created.json()) as RunView;
    expect(run.id).toMatch(/^run_/);
    const row = await env.DB.prepare('SELECT status, task_count FROM runs WHERE id = ?').bind(run.id).first();
    expect(row).toMatchObject({ task_count: 3 });

    const done = await eventually(async () => {
      const view = (await (await api(`/v1/runs/${run.id}`)).json()) as RunView;
      return view.status === 'completed' ? view : null;
    });
    expect(done.counters?.tasks).toBe(3);
    expect(done.counters?.tasksDone).toBe(3);
    const final = await env.DB.prepare('SELECT status, completed_at FROM runs WHERE id = ?')
      .bind(run.id)
      .first<{ status: string; completed_at: number }>();
    expect(final?.status).toBe('completed');
    expect(final?.completed_at).toBeGreaterThan(0);
  });

  it('serves an OpenAPI document', async () => {
    const response = await api('/openapi.json', { token: null });
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/v1/runs');
  });
});
