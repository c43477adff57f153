import { runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { RunView } from '../../shared/contracts/run-view';
import { consumerDeadlines } from '../../workers/common/consume';
import type { CoordinatorBindings } from '../../workers/common/env';
import { taskTreeStub } from '../../workers/common/env';
import { proxySpace, simEndpoint } from './fault-hooks';
import { hangs, hungBatches } from './hang-hooks';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook, runOutputs } from './settled';

const env = workerEnv as unknown as CoordinatorBindings;

async function createRun(spec: Record<string, unknown>): Promise<string> {
  const created = await api('/v1/runs', { method: 'POST', json: spec });
  expect(created.status).toBe(201);
  return ((await created.json()) as RunView).id;
}

/** Polls the run view until the run ends, for at most `seconds`. */
async function waitForEnd(id: string, seconds: number): Promise<RunView> {
  return eventually(
    async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunView;
      return ['completed', 'partial', 'failed', 'cancelled'].includes(view.status) ? view : null;
    },
    seconds * 5,
    200,
  );
}

const rootJob = (id: string, task: number) =>
  runInDurableObject(taskTreeStub(env, id, task) as unknown as DurableObjectStub, (_instance, state) =>
    state.storage.sql
      .exec<{ attempt: number; status: string }>("SELECT attempt, status FROM jobs WHERE id = 'root'")
      .one(),
  );

afterEach(() => {
  hangs.length = 0;
  hungBatches.length = 0;
});

describe('a consumer invocation returns whatever one message does', () => {
  it('a message whose work does not answer is given up at its deadline: the batch returns, the others are applied, the attempt is retried and completes once', async () => {
    // The local queue hands its next batch out only once this one returned (miniflare's broker):
    // before the deadlines, the hung work kept the batch, its heartbeat kept the job alive, and
    // the integration project's single expand queue delivered nothing more, ever.
    const policy = await simEndpoint(`${inject('simPolicyUrl')}/v1`, { maxConcurrency: 8 });
    const seed = 40_000 + Math.floor(Math.random() * 10_000);
    const tasks = [0, 1, 2, 3];
    const spec = {
      tasks,
      iterations: 1,
      width: 2,
      depth: 2,
      seed,
      parallelism: 1,
      policy,
      jobTimeoutMs: 1000,
    };
    // Held for 10 minutes by the proxy: far past the deadline and the test's own patience.
    const hold = await proxySpace({ completionDelayMs: 600_000 });
    hangs.push({ seed, task: 1, kind: 'root', attempt: 1, holdUrl: `${hold.llm}/chat/completions` });
    const bucket = await runCompletedHook();
    const id = await createRun(spec);
    const { workMs } = consumerDeadlines(1000);
    const view = await waitForEnd(id, 240);
    const [held] = hungBatches;
    console.log(
      `hung attempt held its batch of ${held?.size} for ${held?.returned ? held.returned - held.began : 'ever'} ms (deadline ${workMs} ms); run ${view.status}`,
    );
    expect(hungBatches).toHaveLength(1);
    expect(held?.returned).not.toBeNull();
    // Given up at its deadline (plus reporting the failure), not held for ever.
    expect(held!.returned! - held!.began).toBeGreaterThanOrEqual(workMs - 50);
    expect(held!.returned! - held!.began).toBeLessThan(workMs + 30_000);
    expect(view.status).toBe('completed');
    expect(view.counters?.failedJobs ?? 0).toBe(0);
    // The hung attempt was retried once and that attempt completed; the others took their first.
    expect(await rootJob(id, 1)).toEqual({ attempt: 2, status: 'done' });
    for (const task of [0, 2, 3]) expect(await rootJob(id, task)).toEqual({ attempt: 1, status: 'done' });
    await expectSettled(id, bucket);

    // Applied once: trees and records equal those of the same run without the hang.
    hangs.length = 0;
    const clean = await createRun(spec);
    expect((await waitForEnd(clean, 120)).status).toBe('completed');
    expect(await runOutputs(id, tasks)).toEqual(await runOutputs(clean, tasks));
  }, 300_000);
});
