import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { runLedgerStub, taskTreeStub } from '../../workers/common/env';
import { patchBindings, proxySpace, simEndpoint } from './fault-hooks';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook } from './settled';
import { armSpliceHold, disarmSpliceHold } from './splice-hold';

// The two repairs of issue 15 that had no direct test: the TaskTree's "wedged" branch (nothing left
// in flight, yet the task is not done) and the RunLedger's question to tasks it has not heard from.
// Broken states are made the way a crash (or an older version) could leave them, on real workerd.

const env = workerEnv as unknown as CoordinatorBindings;

afterEach(() => disarmSpliceHold());

/** A one-task run held at its splice: the splice message waits before delivery (a queue backlog). */
async function runHeldAtSplice(seed: number, tasks = [0]) {
  const proxy = await proxySpace({});
  const policy = await simEndpoint(proxy.llm, { maxConcurrency: 8 });
  const bucket = await runCompletedHook();
  const created = await api('/v1/runs', {
    method: 'POST',
    json: { tasks, iterations: 2, width: 2, depth: 4, seed, policy },
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const hold = armSpliceHold(id, 'delivery');
  const tree = taskTreeStub(env, id, 0);
  await eventually(async () => hold.held, 600, 20);
  await eventually(async () => {
    const statuses = await Promise.all(tasks.map((t) => taskTreeStub(env, id, t).status()));
    return statuses.every((s) => s === 'splicing');
  }, 600);
  /** A statement on the tree's jobs table behind its back (its in-memory mirror reloaded). */
  const corrupt = (statement: string) =>
    runInDurableObject(tree as unknown as DurableObjectStub, (instance, state) => {
      state.storage.sql.exec(statement);
      (instance as unknown as { jobs: { reload(): void } }).jobs.reload();
    });
  return { id, bucket, hold, tree, corrupt };
}

async function indexRows(id: string): Promise<number> {
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
    .bind(id)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe('TaskTree: nothing left in flight', () => {
  it('a splicing task whose splice job row is gone gets its splice back from the alarm; the run completes with its records', async () => {
    const { id, bucket, hold, tree, corrupt } = await runHeldAtSplice(31);
    await corrupt("DELETE FROM jobs WHERE id = 'splice'");
    expect(await tree.getJob('splice')).toBeNull();
    expect(await runDurableObjectAlarm(tree as unknown as DurableObjectStub)).toBe(true);
    // Repaired, not failed: the job is back and pending.
    expect(await tree.status()).toBe('splicing');
    expect((await tree.getJob('splice'))?.kind).toBe('splice');
    hold.release();
    await eventually(async () => (await tree.status()) === 'done', 600, 50);
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('completed');
    const progress = await tree.progress();
    expect((progress?.revision ?? 0) + (progress?.good ?? 0)).toBeGreaterThan(0);
    expect(settled.indexRows).toBe((progress?.revision ?? 0) + (progress?.good ?? 0));
  });

  it('a splicing task whose splice job ended without its result is failed loudly with the reason; the run ends failed, D1 = ledger, one webhook', async () => {
    const { id, bucket, hold, tree, corrupt } = await runHeldAtSplice(32);
    // An older version's "mark first, apply later" crash: the job says done, the tree never knew.
    await corrupt("UPDATE jobs SET status = 'done' WHERE id = 'splice'");
    expect(await runDurableObjectAlarm(tree as unknown as DurableObjectStub)).toBe(true);
    expect(await tree.status()).toBe('failed');
    const progress = await tree.progress();
    expect(progress?.error).toBe(
      'nothing left in flight while splicing: the task is wedged (its splice job ended done without its result applied)',
    );
    // The held splice message finds no job to do: nothing is written for the failed task.
    hold.release();
    const ledger = await eventually(async () => {
      const status = await runLedgerStub(env, id).status();
      return status?.status === 'failed' ? status : null;
    }, 400);
    expect(ledger.tasks).toEqual([{ task: 0, status: 'failed', error: progress?.error }]);
    const view = (await (await api(`/v1/runs/${id}`)).json()) as { status: string; error: string | null };
    expect(view.status).toBe('failed');
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('failed');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await indexRows(id)).toBe(0);
  });
});

/** From now on the tree's reports to its ledger are lost on their way (its retries too). */
async function loseReports(tree: unknown, lost: { n: number }): Promise<void> {
  const lostStub = {
    reportTask: async () => {
      lost.n += 1;
      throw new Error('injected fault (test): report lost');
    },
  };
  await patchBindings(tree as DurableObjectStub, (real) => ({
    RUN_LEDGER: {
      idFromName: (name: string) => real.RUN_LEDGER.idFromName(name),
      get: () => lostStub,
      getByName: () => lostStub,
    } as unknown as CoordinatorBindings['RUN_LEDGER'],
  }));
}

describe('RunLedger: tasks it has not heard from', () => {
  it('a task whose final report was lost is asked by the alarm; the run completes, D1 = ledger, one webhook', async () => {
    const { id, bucket, hold, tree } = await runHeldAtSplice(33);
    // From now on the tree's reports are lost on their way (its retries too).
    const lost = { n: 0 };
    await loseReports(tree, lost);
    hold.release();
    await eventually(async () => (await tree.status()) === 'done', 600, 50);
    await eventually(async () => lost.n > 0, 200);
    const ledger = runLedgerStub(env, id);
    expect((await ledger.status())?.status).toBe('running');
    expect((await ledger.status())?.tasks[0]?.status).toBe('splicing');
    // Not heard from for a minute (the clock moved on: the row's last report is made older).
    await runInDurableObject(ledger as unknown as DurableObjectStub, (_i, state) => {
      state.storage.sql.exec('UPDATE tasks SET updated_at = updated_at - 61000');
    });
    expect(await runDurableObjectAlarm(ledger as unknown as DurableObjectStub)).toBe(true);
    const after = await ledger.status();
    expect(after?.status).toBe('completed');
    expect(after?.tasks[0]?.status).toBe('done');
    const progress = await tree.progress();
    expect(after?.counters.revision).toBe(progress?.revision);
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('completed');
    expect(settled.indexRows).toBe((progress?.revision ?? 0) + (progress?.good ?? 0));
  });

  it('a tree that cannot answer holds up neither the other silent tasks nor the checks after them', async () => {
    const { id, bucket, hold } = await runHeldAtSplice(34, [0, 1]);
    const trees = [taskTreeStub(env, id, 0), taskTreeStub(env, id, 1)];
    const lost = { n: 0 };
    for (const tree of trees) await loseReports(tree, lost);
    hold.release();
    await eventually(
      async () => {
        const statuses = await Promise.all(trees.map((t) => t.status()));
        return statuses.every((s) => s === 'done');
      },
      600,
      50,
    );
    const ledger = runLedgerStub(env, id);
    expect((await ledger.status())?.tasks.map((t) => t.status)).toEqual(['splicing', 'splicing']);
    // The ledger cannot reach task 0's tree (asked first); task 1's answers.
    const broken = { n: 0 };
    await patchBindings(ledger as unknown as DurableObjectStub, (real) => {
      const stubOf = (name: string) =>
        name.endsWith(':0') || name.endsWith('/0')
          ? {
              progress: async () => {
                broken.n += 1;
                throw new Error('injected fault (test): tree unreachable');
              },
            }
          : real.TASK_TREE.getByName(name);
      return {
        TASK_TREE: { getByName: stubOf } as unknown as CoordinatorBindings['TASK_TREE'],
      };
    });
    const age = () =>
      runInDurableObject(ledger as unknown as DurableObjectStub, (_i, state) => {
        state.storage.sql.exec('UPDATE tasks SET updated_at = updated_at - 61000');
      });
    await age();
    expect(await runDurableObjectAlarm(ledger as unknown as DurableObjectStub)).toBe(true);
    expect(broken.n).toBe(1);
    const between = await ledger.status();
    expect(between?.tasks.map((t) => t.status)).toEqual(['splicing', 'done']);
    expect(between?.status).toBe('running');
    // Task 1 is in D1 already (the checks after the questions ran).
    const d1 = await env.DB.prepare('SELECT status FROM run_tasks WHERE run_id = ? AND task = 1')
      .bind(id)
      .first<{ status: string }>();
    expect(d1?.status).toBe('done');
    // The tree is reachable again: the next question a minute later completes the run.
    await patchBindings(ledger as unknown as DurableObjectStub, () => ({ TASK_TREE: env.TASK_TREE }));
    await age();
    expect(await runDurableObjectAlarm(ledger as unknown as DurableObjectStub)).toBe(true);
    expect((await ledger.status())?.status).toBe('completed');
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('completed');
  });
});
