import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { taskTreeStub } from '../../workers/common/env';
import { proxySpace, simEndpoint } from './fault-hooks';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook } from './settled';

// The TaskTree's own repairs (issue 15): a result that cannot be stored fails its attempt instead
// of losing the job, and the alarm's invariant check re-dispatches an expansion whose job row is
// gone or fails it loudly when its job ended without its result. The broken states are made the
// way a crash between two writes of an older version would have left them.

const env = workerEnv as unknown as CoordinatorBindings;

interface JobRow {
  id: string;
  attempt: number;
  status: string;
  reason: string | null;
}

/**
 * A one-task run whose first expansion ('0:0') is held 6 s at the endpoint (the test breaks its
 * state meanwhile); `release()` lets every later request through at once.
 */
async function runWithJobInFlight() {
  const proxy = await proxySpace({ completionDelayMs: 6000 });
  const name = await simEndpoint(proxy.llm, { maxConcurrency: 8 });
  const bucket = await runCompletedHook();
  const created = await api('/v1/runs', {
    method: 'POST',
    json: { tasks: [0], iterations: 2, width: 2, depth: 4, seed: 3, policy: name },
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const tree = taskTreeStub(env, id, 0);
  await eventually(async () => (await proxy.stats()).completions === 1 && (await tree.getJob('0:0')), 400);
  const row = async () =>
    runInDurableObject(tree as unknown as DurableObjectStub, (_i, state) => {
      return state.storage.sql
        .exec<JobRow & Record<string, SqlStorageValue>>(
          "SELECT id, attempt, status, reason FROM jobs WHERE id = '0:0'",
        )
        .toArray()[0];
    });
  /** Changes the jobs table behind the object's back (and its in-memory mirror with it). */
  const corrupt = (statement: string) =>
    runInDurableObject(tree as unknown as DurableObjectStub, (instance, state) => {
      state.storage.sql.exec(statement);
      (instance as unknown as { jobs: { reload(): void } }).jobs.reload();
    });
  return { id, tree, bucket, row, corrupt, release: () => proxy.arm({ completionDelayMs: 0 }) };
}

describe('durability: the TaskTree repairs what a crash could leave behind', () => {
  it('a result too big to store fails that attempt with the reason and leaves the tree as it was; the retry completes the run', async () => {
    const run = await runWithJobInFlight();
    const before = await run.tree.progress();
    const big = {
      kind: 'expand' as const,
      children: [
        {
          response: 'Thought: x\nAction: inventory',
          action: 'inventory',
          observation: 'B'.repeat(3_000_000),
          reward: 0,
          done: false,
          snapshot: null,
        },
      ],
      usage: { promptTokens: 1, completionTokens: 1 },
      policyCalls: 1,
    };
    // Sent around the expander's caps (as a buggy or older consumer could): the node row is over
    // the Durable Object's SQLite row limit.
    expect(await run.tree.completeJob('0:0', big, 1)).toEqual({ accepted: false });
    const row = await run.row();
    console.log(`3 MB child: job 0:0 now attempt ${row?.attempt}, reason: ${row?.reason}`);
    expect(row).toMatchObject({ status: 'pending', attempt: 2 });
    expect(row?.reason).toMatch(/^could not apply the result: /);
    expect((await run.tree.progress())?.nodes).toBe(before?.nodes);
    expect(await run.tree.getJob('0:0')).not.toBeNull();
    await run.release();
    const settled = await expectSettled(run.id, run.bucket);
    expect(settled.status).toBe('completed');
    expect((await run.tree.progress())?.failedJobs).toBe(0);
  });

  it('an expanding descent whose job row is gone gets its job back from the alarm; the run completes', async () => {
    const run = await runWithJobInFlight();
    await run.corrupt("DELETE FROM jobs WHERE id = '0:0'");
    expect(await run.row()).toBeUndefined();
    await runDurableObjectAlarm(run.tree as unknown as DurableObjectStub);
    expect(await run.row()).toMatchObject({ status: 'pending', attempt: 1 });
    await run.release();
    const settled = await expectSettled(run.id, run.bucket);
    expect(settled.status).toBe('completed');
  });

  it('an expansion whose job ended without its result is failed with the reason by the alarm; the run says so', async () => {
    const run = await runWithJobInFlight();
    await run.corrupt("UPDATE jobs SET status = 'done' WHERE id = '0:0'");
    await runDurableObjectAlarm(run.tree as unknown as DurableObjectStub);
    await run.release();
    const settled = await expectSettled(run.id, run.bucket);
    const progress = (await (await api(`/v1/runs/${run.id}/tasks/0`)).json()) as {
      status: string;
      error: string | null;
    };
    console.log(`job ended without its result: run ${settled.status}, task: ${progress.error}`);
    expect(settled.status).toBe('failed');
    expect(progress.status).toBe('failed');
    expect(progress.error).toMatch(/job 0:0 ended \(done\) without its result applied/);
  });
});
