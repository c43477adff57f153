import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { ExpandJob } from '../../shared/contracts/jobs';
import { type RunSpec, runSpecSchema } from '../../shared/contracts/run-spec';
import type { CoordinatorBindings } from '../../workers/common/env';
import type { TaskTree } from '../../workers/coordinator/src/task-tree';
import { WAIT_FRESH_MS, WaitCache } from '../../workers/coordinator/src/waits';
import { eventually } from './helpers';

const env = workerEnv as unknown as CoordinatorBindings;

const spec = (overrides: Partial<RunSpec> = {}): RunSpec =>
  runSpecSchema.parse({ tasks: [0], iterations: 1, width: 2, depth: 2, ...overrides });

/**
 * A TaskTree under a name the consumers never look up (they address `${runId}:${task}`), so the
 * expander acks its messages as unwanted and the test plays the consumer itself.
 */
function isolatedTree(name: string) {
  return env.TASK_TREE.get(env.TASK_TREE.idFromName(`${name}:${crypto.randomUUID()}`));
}

async function rootJobOf(stub: DurableObjectStub<TaskTree>) {
  return (await stub.getJob('root')) as ExpandJob | null;
}

describe('TaskTree', () => {
  it('accepts each job result once: duplicates and stale results change nothing', async () => {
    const stub = isolatedTree('dup');
    // An unknown run id: the ledger report is a no-op, the tree works on its own.
    await stub.start('run_dup', 0, spec());
    expect(await rootJobOf(stub)).toMatchObject({ kind: 'root', attempt: 1 });
    const root = {
      kind: 'root' as const,
      observation: 'Crafting commands:\ncraft 1 x using 1 y\n\nGoal: craft x.',
      snapshot: null,
      prefix: [],
    };
    expect(await stub.completeJob('root', root)).toEqual({ accepted: true });
    expect(await stub.completeJob('root', root)).toEqual({ accepted: false });
    expect(await stub.getJob('root')).toBeNull();

    const tree = await stub.treeFile();
    expect(tree?.root.observation).toContain('Goal: craft x.');
    const progress = await stub.progress();
    expect(progress?.status).toBe('searching');

    // The first expansion job of the search: complete it twice with the same children.
    const jobId = await runInDurableObject(stub, async (_instance, state) => {
      const rows = state.storage.sql
        .exec<{ id: string }>("SELECT id FROM jobs WHERE kind = 'expand' AND status = 'pending'")
        .toArray();
      return rows[0]!.id;
    });
    const children = [
      {
        response: 'Thought: a\nAction: get 1 y',
        action: 'get 1 y',
        observation: 'Got 1 y',
        reward: 0,
        done: false,
        snapshot: null,
      },
      {
        response: 'Thought: b\nAction: craft 1 x using 1 y',
        action: 'craft 1 x using 1 y',
        observation: 'Crafted 1 x',
        reward: 1,
        done: true,
        snapshot: null,
      },
    ];
    const result = {
      kind: 'expand' as const,
      children,
      usage: { promptTokens: 10, completionTokens: 5 },
      policyCalls: 1,
    };
    expect(await stub.completeJob(jobId, result)).toEqual({ accepted: true });
    expect(await stub.completeJob(jobId, result)).toEqual({ accepted: false });
    const after = await stub.treeFile();
    expect(after!.root.children).toHaveLength(2);
    // One terminal child backed up once, not twice.
    expect(after!.root.visits).toBe(1);
    expect(after!.root.value).toBe(1);
    expect((await stub.progress())!.policyCalls).toBe(1);
  });

  it('re-sends an overdue job from its alarm, then records it as failed with the reason', async () => {
    const stub = isolatedTree('alarm');
    await stub.start('run_alarm', 0, spec({ jobTimeoutMs: 1000 }));
    await stub.setRetryPolicy({ timeoutMs: 1, backoffMs: 0, maxAttempts: 2 });
    // The first deadline was set with the run's 1 s timeout.
    await new Promise((r) => setTimeout(r, 1100));
    // Deadlines are due: the alarm re-sends the job (attempt 2), then fails it for good.
    for (let i = 0; i < 20; i++) {
      const job = await rootJobOf(stub);
      if (job === null) break;
      // A consumer takes the current attempt and goes silent (a job never taken is re-sent for
      // free: durability-backlog.test.ts).
      await stub.getJob('root', job.attempt);
      await runDurableObjectAlarm(stub);
      await new Promise((r) => setTimeout(r, 10));
    }
    const row = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ attempt: number; status: string }>("SELECT attempt, status FROM jobs WHERE id = 'root'")
        .one(),
    );
    expect(row).toEqual({ attempt: 2, status: 'failed' });
    const progress = await stub.progress();
    expect(progress?.status).toBe('failed');
    expect(progress?.error).toMatch(/could not start the task: no result within the deadline/);
    expect(progress?.failures[0]?.reason).toMatch(/no result within the deadline/);
  });
});

describe('TaskTree heartbeats', () => {
  const storedDeadline = (stub: DurableObjectStub<TaskTree>) =>
    runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql.exec<{ deadline: number }>("SELECT deadline FROM jobs WHERE id = 'root'").one()
          .deadline,
    );

  it('a heartbeat moves the deadline at once, and writes it only once the stored one is half a timeout away', async () => {
    const stub = isolatedTree('beat');
    const started = Date.now();
    await stub.start('run_beat', 0, spec({ jobTimeoutMs: 4000 }));
    const first = await storedDeadline(stub);
    expect(first).toBeGreaterThanOrEqual(started + 4000);
    // Early in the attempt: the run view sees the heartbeat, storage keeps the first deadline.
    expect(await stub.keepAlive('root', 1)).toBe(true);
    expect((await stub.waiting())?.waitingFor).toContain('a consumer is working on it');
    expect(await storedDeadline(stub)).toBe(first);
    // Past half the timeout: the heartbeat is written through (a restart would keep it).
    await new Promise((r) => setTimeout(r, 2100));
    const beat = Date.now();
    expect(await stub.keepAlive('root', 1)).toBe(true);
    expect(await storedDeadline(stub)).toBeGreaterThanOrEqual(beat + 4000);
    // The alarm reads the moved deadline: the job is not overdue at its first deadline.
    await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now() + 50)));
    await runDurableObjectAlarm(stub);
    expect(((await rootJobOf(stub)) as { attempt: number }).attempt).toBe(1);
  });
});

describe('WaitCache', () => {
  it("reuses a tree's answer for WAIT_FRESH_MS, asks again after, forgets closed tasks and failed asks", async () => {
    const cache = new WaitCache();
    let asked = 0;
    const answer = async () => {
      asked += 1;
      return { status: 'searching', waitingFor: `ask ${asked}`, since: 0, lastHeartbeat: null, openJobs: 1 };
    };
    expect((await cache.ask(1, 0, answer))?.waitingFor).toBe('ask 1');
    expect((await cache.ask(1, WAIT_FRESH_MS - 1, answer))?.waitingFor).toBe('ask 1');
    expect((await cache.ask(1, WAIT_FRESH_MS, answer))?.waitingFor).toBe('ask 2');
    // Task 1 closed: its answer is dropped, a later ask goes to the tree.
    cache.retain([2]);
    expect((await cache.ask(1, WAIT_FRESH_MS, answer))?.waitingFor).toBe('ask 3');
    const failing = () => Promise.reject(new Error('tree unreachable'));
    await expect(cache.ask(2, 0, failing)).rejects.toThrow('tree unreachable');
    expect((await cache.ask(2, 1, answer))?.waitingFor).toBe('ask 4');
  });
});

describe('EndpointGate', () => {
  it('never lets more than maxConcurrency callers hold a slot, and serves waiters in order', async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-${crypto.randomUUID()}`));
    const capacity = 3;
    let holding = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const lease = await gate.acquire(`caller-${i}`, capacity);
        if ('refused' in lease) throw new Error(lease.refused);
        holding++;
        peak = Math.max(peak, holding);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        holding--;
        await gate.release(lease.leaseId);
      }),
    );
    expect(peak).toBeLessThanOrEqual(capacity);
    expect(peak).toBeGreaterThan(1);
    expect(order).toHaveLength(12);
    expect(await gate.stats()).toMatchObject({ capacity, inUse: 0, queued: 0 });
  });
});

describe('EndpointGate waits', () => {
  it('says when a lease was waited for (the caller checks its job again), and not when it was free', async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-${crypto.randomUUID()}`));
    const first = await gate.acquire('first', 1);
    if ('refused' in first) throw new Error(first.refused);
    expect(first.queued).toBeUndefined();
    const second = gate.acquire('second', 1);
    await eventually(async () => ((await gate.stats()).queued === 1 ? true : null), 50, 10);
    await gate.release(first.leaseId);
    const granted = await second;
    if ('refused' in granted) throw new Error(granted.refused);
    expect(granted.queued).toBe(true);
    expect(granted.holderId).toBe('second');
    await gate.release(granted.leaseId);
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
  });
});

describe('EnvPool', () => {
  it('leases env ids exclusively and reuses released ones', async () => {
    const pool = env.ENV_POOL.get(env.ENV_POOL.idFromName(`pool-${crypto.randomUUID()}`));
    const server = 'http://127.0.0.1:9';
    const first = await pool.lease(server, 'textcraft', 'a', 2);
    expect(first.kind).toBe('create');
    await pool.registerCreated(first.leaseId, 7);
    const second = await pool.lease(server, 'textcraft', 'b', 2);
    expect(second.kind).toBe('create');
    await pool.registerCreated(second.leaseId, 8);
    // Cap reached: a third holder waits until one is released, then gets that id.
    const third = pool.lease(server, 'textcraft', 'c', 2);
    await pool.release(first.leaseId, 'ok');
    const granted = await third;
    expect(granted).toMatchObject({ kind: 'use', envId: 7 });
  });
});
