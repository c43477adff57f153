import { runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { AnyJob, JobResult } from '../../shared/contracts/jobs';
import { type RunSpec, runSpecSchema } from '../../shared/contracts/run-spec';
import type { CoordinatorBindings } from '../../workers/common/env';
import type { TaskTree } from '../../workers/coordinator/src/task-tree';

// A TaskTree stores each node once and, on a wake, reads only the numbers of its nodes (texts when
// asked for; children, visits, value and terminal flags rebuilt from the nodes). These tests play
// the consumers against real workerd storage and evict the object (ctx.abort: the next call
// builds a new instance from storage) between and inside jobs.

const env = workerEnv as unknown as CoordinatorBindings;
type Stub = DurableObjectStub<TaskTree>;

const spec: RunSpec = runSpecSchema.parse({
  tasks: [3],
  iterations: 14,
  width: 4,
  depth: 9,
  parallelism: 1,
  judgeDuringSearch: false,
});

function isolatedTree(name: string): Stub {
  // A name the consumers never look up (they address `${runId}:${task}`): the test is the consumer.
  return env.TASK_TREE.get(env.TASK_TREE.idFromName(`${name}:${crypto.randomUUID()}`));
}

/** Throws the instance away; returns a new stub, whose first call builds the object from storage. */
async function evict(stub: Stub): Promise<Stub> {
  await runInDurableObject(stub, (_instance, state) => state.abort('evicted by the test')).catch(() => {});
  return env.TASK_TREE.get(stub.id);
}

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const snapshotOf = (observation: string) => `snap:${hash(observation)}`;

/** The consumer's answer, a function of the payload alone (so both trees get the same answers). */
function resultOf(job: AnyJob): JobResult {
  const usage = { promptTokens: 10, completionTokens: 3 };
  if (job.kind === 'root') {
    const observation = `Goal: craft the thing. ${'You see a table. '.repeat(20)}`;
    return { kind: 'root', observation, snapshot: snapshotOf(observation), prefix: [] };
  }
  if (job.kind === 'expand') {
    const trail = job.path.map((s) => s.action).join('|');
    const children = [0, 1, 2, 3].map((i) => {
      const h = hash(`${trail}#${i}`);
      const pick = h % 3;
      const done = h % 5 === 0;
      const observation = `obs ${pick} after ${job.path.length} steps. ${'Inventory: sticks. '.repeat(15)}`;
      return {
        response: `Thought: try ${pick}\nAction: act ${pick}`,
        action: `act ${pick}`,
        observation,
        // Rewards that do not add up exactly in floating point: the order of backups shows.
        reward: done ? [0.1, 0.7, 1][h % 3]! : 0.025 * (h % 4),
        done,
        snapshot: done ? null : snapshotOf(observation),
      };
    });
    return { kind: 'expand', children, usage, policyCalls: 1 };
  }
  if (job.kind === 'judge') {
    const verdict = hash(job.current.observation + job.history.length) % 2 ? 'good' : 'bad';
    return { kind: 'judge', judgement: verdict, feedback: `feedback on ${job.nodeId}`, usage };
  }
  return { kind: 'splice', revision: 2, good: 1, pairs: 1, referenceJudgeCalls: 0, skipped: null };
}

async function pendingJobs(stub: Stub): Promise<string[]> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ id: string }>("SELECT id FROM jobs WHERE status = 'pending' ORDER BY since, id")
      .toArray()
      .map((r) => r.id),
  );
}

/**
 * Drives a tree to its splice job as the consumers would (take, then complete, attempt 1), checking
 * each expand payload's env snapshot; `evictAt(step, phase)` says when to evict it. Returns every
 * payload and the splice's first page.
 */
async function drive(first: Stub, evictAt: (step: number, phase: 'taken' | 'done') => boolean) {
  let stub = first;
  await stub.start('run_wake', 3, spec);
  const payloads: AnyJob[] = [];
  for (let step = 0; step < 2000; step++) {
    const [jobId] = await pendingJobs(stub);
    if (jobId === undefined)
      throw new Error(`no open job at step ${step}: ${(await stub.progress())?.status}`);
    if (jobId === 'splice') break;
    const job = (await stub.getJob(jobId, 1))!;
    expect(job, `job ${jobId}`).not.toBeNull();
    if (job.kind === 'expand') expect(job.snapshot).toBe(snapshotOf(job.path.at(-1)!.observation));
    payloads.push(job);
    if (evictAt(step, 'taken')) stub = await evict(stub);
    expect(await stub.completeJob(jobId, resultOf(job), 1)).toEqual({ accepted: true });
    if (evictAt(step, 'done')) stub = await evict(stub);
  }
  expect((await stub.progress())?.status).toBe('splicing');
  const page = await stub.splicePage('splice', 1, 0);
  return { payloads, page, stub };
}

describe('TaskTree incremental wake-up', () => {
  it('a tree evicted between and inside jobs, all through search and critique, ends identical to one never evicted', async () => {
    const kept = isolatedTree('kept');
    const a = await drive(kept, () => false);
    const b = await drive(isolatedTree('evicted'), (step, phase) =>
      phase === 'done' ? step % 2 === 0 : step % 5 === 3,
    );
    let evicted = b.stub;
    expect(a.payloads.filter((p) => p.kind === 'judge').length).toBeGreaterThan(0);
    expect(a.payloads.length).toBeGreaterThan(40);
    expect(JSON.stringify(b.payloads)).toBe(JSON.stringify(a.payloads));
    expect(JSON.stringify(b.page)).toBe(JSON.stringify(a.page));
    const [treeA, treeB] = [await kept.treeFile(), await evicted.treeFile()];
    expect(JSON.stringify(treeB)).toBe(JSON.stringify(treeA));
    expect(await evicted.progress()).toEqual(await kept.progress());
    // The splice completes on a woken object too.
    evicted = await evict(evicted);
    expect(await evicted.completeJob('splice', resultOf({ kind: 'splice' } as AnyJob), 1)).toEqual({
      accepted: true,
    });
    expect((await evicted.progress())?.status).toBe('done');
  }, 240_000);

  it('a wake reads the numbers of every node and no text; a result writes one row per new node, whatever its depth', async () => {
    let stub = isolatedTree('rows');
    await stub.start('run_rows', 3, spec);
    const root = (await stub.getJob('root', 1))!;
    await stub.completeJob('root', resultOf(root), 1);
    const perResult: {
      newNodes: number;
      nodeRows: number;
      otherRows: number;
      newJobs: number;
      depth: number;
    }[] = [];
    for (let step = 0; step < 200; step++) {
      const [jobId] = await pendingJobs(stub);
      if (jobId === undefined || !/^\d+:\d+$/.test(jobId)) break;
      const job = (await stub.getJob(jobId, 1))!;
      stub = await evict(stub);
      const measured = await runInDurableObject(stub, async (instance: TaskTree, state) => {
        const texts = (instance as unknown as { store: { texts: unknown[] } }).store.texts;
        // Woken just now: node texts are read only when asked for.
        expect(texts.filter((t) => t !== undefined)).toEqual([]);
        const sql = state.storage.sql;
        const exec = sql.exec.bind(sql);
        const counts = { nodeRows: 0, otherRows: 0 };
        const jobsBefore = exec<{ n: number }>('SELECT COUNT(*) AS n FROM jobs').one().n;
        const nodesBefore = exec<{ n: number }>('SELECT COUNT(*) AS n FROM tree_nodes').one().n;
        Object.defineProperty(sql, 'exec', {
          configurable: true,
          value: (query: string, ...args: SqlStorageValue[]) => {
            const cursor = exec(query, ...args);
            if (/tree_nodes/.test(query)) counts.nodeRows += cursor.rowsWritten;
            else counts.otherRows += cursor.rowsWritten;
            return cursor;
          },
        });
        try {
          expect(await instance.completeJob(jobId, resultOf(job), 1)).toEqual({ accepted: true });
        } finally {
          Object.defineProperty(sql, 'exec', { configurable: true, value: exec });
        }
        return {
          ...counts,
          newNodes: exec<{ n: number }>('SELECT COUNT(*) AS n FROM tree_nodes').one().n - nodesBefore,
          newJobs: exec<{ n: number }>('SELECT COUNT(*) AS n FROM jobs').one().n - jobsBefore,
          depth: job.kind === 'expand' ? job.path.length - 1 : 0,
        };
      });
      perResult.push(measured);
    }
    expect(perResult.length).toBeGreaterThan(20);
    expect(Math.max(...perResult.map((r) => r.depth))).toBeGreaterThanOrEqual(5);
    for (const r of perResult) {
      // Only the new nodes' rows: no ancestor is rewritten by a backup, no snapshot row apart.
      expect(r.nodeRows).toBe(r.newNodes);
      // The job's end (1), the status row and the search's meta (1 statement, 2 rows), each new
      // job (2: its row and its key) and the outbox's mark (1 per job): none of it grows with the
      // tree. The result that ends the search also stores the critique's first keys.
      expect(r.otherRows - 3 * r.newJobs).toBeLessThanOrEqual(r.newJobs > 1 ? 6 : 3);
    }
  }, 240_000);

  it('a tree stored before nodes had their own columns is moved over on its wake and searches on identically', async () => {
    const kept = isolatedTree('legacy-kept');
    let moved = isolatedTree('legacy-moved');
    // Drive both to the same point, then rewrite one's storage in the old layout.
    for (const stub of [kept, moved]) {
      await stub.start('run_legacy', 3, spec);
      for (let step = 0; step <= 12; step++) {
        const [jobId] = await pendingJobs(stub);
        const job = (await stub.getJob(jobId!, 1))!;
        await stub.completeJob(jobId!, resultOf(job), 1);
      }
    }
    const before = JSON.stringify(await moved.treeFile());
    await runInDurableObject(moved, (instance, state) => {
      const sql = state.storage.sql;
      const nodes = (instance as unknown as { machine: { search: { nodes: object[] } } }).machine.search
        .nodes;
      sql.exec('CREATE TABLE nodes (id INTEGER PRIMARY KEY, data TEXT NOT NULL)');
      sql.exec('CREATE TABLE snapshots (node_id INTEGER PRIMARY KEY, data TEXT NOT NULL)');
      for (const [i, node] of nodes.entries())
        sql.exec('INSERT INTO nodes VALUES (?, ?)', i, JSON.stringify(node));
      sql.exec('INSERT INTO snapshots SELECT id, snapshot FROM tree_nodes WHERE snapshot IS NOT NULL');
      sql.exec('DELETE FROM tree_nodes');
    });
    moved = await evict(moved);
    expect(JSON.stringify(await moved.treeFile())).toBe(before);
    const tables = await runInDurableObject(moved, (_i, state) =>
      state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('nodes', 'snapshots')",
        )
        .toArray(),
    );
    expect(tables).toEqual([]);
    // Both go on to the critique with the same payloads (snapshots included) and the same tree.
    const rest = async (stub: Stub) => {
      const payloads: AnyJob[] = [];
      for (let step = 0; step < 2000; step++) {
        const [jobId] = await pendingJobs(stub);
        if (jobId === undefined || jobId === 'splice') break;
        const job = (await stub.getJob(jobId, 1))!;
        if (job.kind === 'expand') expect(job.snapshot).toBe(snapshotOf(job.path.at(-1)!.observation));
        payloads.push(job);
        expect(await stub.completeJob(jobId, resultOf(job), 1)).toEqual({ accepted: true });
      }
      return payloads;
    };
    const [pa, pb] = [await rest(kept), await rest(moved)];
    expect(pa.length).toBeGreaterThan(5);
    expect(JSON.stringify(pb)).toBe(JSON.stringify(pa));
    expect(JSON.stringify(await moved.treeFile())).toBe(JSON.stringify(await kept.treeFile()));
  }, 240_000);
});
