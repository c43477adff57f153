import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ExpandJob } from '../../shared/contracts/jobs';
import { runSpecSchema } from '../../shared/contracts/run-spec';
import type { CoordinatorBindings } from '../../workers/common/env';
import type { TaskTree } from '../../workers/coordinator/src/task-tree';

const env = workerEnv as unknown as CoordinatorBindings;

/** The job deadline these tests run with (the run spec's minimum is 1 s; setRetryPolicy goes lower). */
const TIMEOUT_MS = 100;

/**
 * A TaskTree under a name the real consumers never look up (they address `${runId}:${task}`):
 * its messages go through the real local queues and are acked unused, as if they sat in a
 * backlog no consumer reaches. The test then plays the consumer that finally picks one up.
 */
async function queuedTree(name: string): Promise<DurableObjectStub<TaskTree>> {
  const stub = env.TASK_TREE.get(env.TASK_TREE.idFromName(`${name}:${crypto.randomUUID()}`));
  await stub.start(`run_${name}`, 0, runSpecSchema.parse({ tasks: [0], jobTimeoutMs: 1000 }));
  await stub.setRetryPolicy({ timeoutMs: TIMEOUT_MS, backoffMs: 0, maxAttempts: 2 });
  // The first deadline was set with the spec's 1 s: let it pass.
  await new Promise((r) => setTimeout(r, 1100));
  return stub;
}

interface Row extends Record<string, SqlStorageValue> {
  attempt: number;
  status: string;
  picked: number;
  copies: number;
  sent: number;
}

const rootRow = (stub: DurableObjectStub<TaskTree>) =>
  runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<Row>("SELECT attempt, status, picked, copies, sent FROM jobs WHERE id = 'root'")
      .one(),
  );

/** Runs the tree's alarm over and over for `ms` (besides the alarms workerd fires itself). */
async function alarmsFor(stub: DurableObjectStub<TaskTree>, ms: number, until?: () => Promise<boolean>) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await runDurableObjectAlarm(stub);
    if (until && (await until())) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const root = { kind: 'root' as const, observation: 'Goal: craft x.', snapshot: null, prefix: [] };

describe('a queue backlog never fails a job', () => {
  it('a job queued past its deadline ~30 times over uses no attempt, is re-sent a bounded number of times, and completes once picked up', async () => {
    const stub = await queuedTree('backlog');
    const started = Date.now();
    await alarmsFor(stub, 3000);
    const deadlines = Math.floor((Date.now() - started) / TIMEOUT_MS);
    const row = await rootRow(stub);
    console.log(`queued ${deadlines} deadlines: attempt ${row.attempt}, ${row.copies} re-sent copies`);
    expect(deadlines).toBeGreaterThanOrEqual(25);
    // Still the first attempt, waiting; today's accounting would have failed it at deadline 2.
    expect(row).toMatchObject({ attempt: 1, status: 'pending', picked: 0 });
    // Re-sends back off (deadlines at T, 2T, 4T, 8T, then every 8T): about 7 in 30 deadlines
    // (measured: 7), against one per deadline (30) without backoff.
    expect(row.copies).toBeGreaterThanOrEqual(3);
    expect(row.copies).toBeLessThanOrEqual(Math.ceil(2 + Math.log2(deadlines) + deadlines / 8));
    const wait = await stub.waiting();
    expect(wait?.waitingFor).toMatch(
      /queued, no consumer has reported on it yet \(re-sent \d+x, no attempt used\)/,
    );
    expect(wait?.lastHeartbeat).toBeNull();

    // A consumer finally gets to the oldest copy: the job, still attempt 1.
    const job = (await stub.getJob('root', 1)) as ExpandJob | null;
    expect(job).toMatchObject({ kind: 'root', attempt: 1 });
    // Every other copy of attempt 1 is dropped at pickup, before any payload is built.
    expect(await stub.getJob('root', 1)).toBeNull();
    expect((await stub.waiting())?.waitingFor).toContain('a consumer is working on it');
    // Taking it started its work clock: an alarm right away does not count it overdue.
    await runDurableObjectAlarm(stub);
    expect(await rootRow(stub)).toMatchObject({ attempt: 1, status: 'pending', picked: 1 });
    expect(await stub.completeJob('root', root, 1)).toEqual({ accepted: true });
    const progress = await stub.progress();
    expect(progress).toMatchObject({ status: 'searching', failedJobs: 0, error: null });
    expect((await rootRow(stub)).status).toBe('done');
  });

  it('a picked-up job that goes silent still uses up its attempts and fails after maxAttempts', async () => {
    const stub = await queuedTree('silent');
    // Attempt 1 is taken, then its consumer goes silent (no heartbeat, no result).
    expect(await stub.getJob('root', 1)).toMatchObject({ attempt: 1 });
    await alarmsFor(stub, 3000, async () => (await rootRow(stub)).attempt === 2);
    expect(await rootRow(stub)).toMatchObject({ attempt: 2, status: 'pending', picked: 0 });
    // Attempt 2 waits in the queue for several deadlines: no attempt is used meanwhile.
    await alarmsFor(stub, 800);
    const queued = await rootRow(stub);
    expect(queued).toMatchObject({ attempt: 2, status: 'pending', picked: 0 });
    expect(queued.copies).toBeGreaterThanOrEqual(1);
    // A late copy of attempt 1 is dropped; attempt 2 is taken and goes silent too: the job fails.
    expect(await stub.getJob('root', 1)).toBeNull();
    expect(await stub.getJob('root', 2)).toMatchObject({ attempt: 2 });
    await alarmsFor(stub, 3000, async () => (await rootRow(stub)).status !== 'pending');
    expect(await rootRow(stub)).toMatchObject({ attempt: 2, status: 'failed' });
    const progress = await stub.progress();
    expect(progress?.status).toBe('failed');
    expect(progress?.error).toBe('could not start the task: no result within the deadline (attempt 2)');
  });

  it('a heartbeat takes the attempt too (a consumer that took it before this object restarted)', async () => {
    const stub = await queuedTree('beat');
    expect(await stub.keepAlive('root', 1)).toBe(true);
    expect((await rootRow(stub)).picked).toBe(1);
    // Taken by the beating consumer: no other copy of attempt 1 is handed out.
    expect(await stub.getJob('root', 1)).toBeNull();
  });
});
