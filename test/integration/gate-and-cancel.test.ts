import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { runLedgerStub, taskTreeStub } from '../../workers/common/env';
import { endpointGateStub, runHolderPrefix } from '../../workers/common/durable-objects';
import { taskRecordsKey } from '../../workers/common/storage-keys';
import { proxySpace, simEndpoint } from './fault-hooks';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook, runOutputs } from './settled';
import type { RunDetail as ApiRunDetail, RunCounters } from '../../shared/contracts/run-view';

/** GET /v1/runs/:id once the RunLedger counted the run (the test reads its counters). */
type RunDetail = ApiRunDetail & { counters: RunCounters };

const putEndpoint = simEndpoint;

const env = workerEnv as unknown as CoordinatorBindings;

describe('EndpointGate: n slots at once', () => {
  it('interleaved acquires of 4 slots on a gate of capacity 4: one job gets all 4 within a second, inUse returns to 0', async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-n-${crypto.randomUUID()}`));
    const capacity = 4;
    const start = Date.now();
    const order: string[] = [];
    let holding = 0;
    let peak = 0;
    // Two jobs of width 4 on an endpoint without `n` support, asking at the same moment (the old
    // one-slot-at-a-time acquire could give each two slots and leave both waiting 10 minutes).
    await Promise.all(
      ['a', 'b', 'c'].map(async (job) => {
        const lease = await gate.acquire(`job-${job}`, capacity, 0, 4);
        if ('refused' in lease) throw new Error(lease.refused);
        order.push(`${job}@${Date.now() - start}`);
        holding += lease.slots ?? 1;
        peak = Math.max(peak, holding);
        await new Promise((r) => setTimeout(r, 200));
        holding -= lease.slots ?? 1;
        await gate.release(lease.leaseId);
      }),
    );
    console.log(`grants: ${order.join(', ')}`);
    expect(Number(order[0]!.split('@')[1])).toBeLessThan(1000);
    expect(order).toHaveLength(3);
    expect(peak).toBe(capacity);
    expect(await gate.stats()).toMatchObject({ capacity, inUse: 0, queued: 0 });
  });

  it('refuses more slots than the capacity at once, holding nothing', async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-over-${crypto.randomUUID()}`));
    expect(await gate.acquire('wide', 2, 0, 3)).toEqual({
      refused: 'cannot hold 3 slots at once: the capacity is 2',
    });
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
  });

  it("revoke: a cancelled run's waiting acquires are refused at once and so are its later ones; others are served", async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-revoke-${crypto.randomUUID()}`));
    const held = await gate.acquire('run_x:0:a#1', 1);
    if ('refused' in held) throw new Error(held.refused);
    const waits = ['run_x:1:b#1', 'run_y:0:a#1', 'run_x:2:c#2'].map((holder) => gate.acquire(holder, 1));
    await eventually(async () => ((await gate.stats()).queued === 3 ? true : null), 100, 10);
    expect(await gate.revoke(runHolderPrefix('run_x'))).toBe(2);
    const revoked = { refused: 'its work was cancelled', revoked: true };
    expect(await waits[0]).toEqual(revoked);
    expect(await waits[2]).toEqual(revoked);
    expect(await gate.acquire('run_x:3:d#1', 1)).toEqual(revoked);
    expect(await gate.stats()).toMatchObject({ inUse: 1, queued: 1 });
    // The slot the run held is its own until released; then the other run's waiter gets it.
    await gate.release(held.leaseId);
    const other = await waits[1]!;
    expect(other).toMatchObject({ holderId: 'run_y:0:a#1', queued: true });
    if (!('leaseId' in other)) throw new Error('expected a lease');
    await gate.release(other.leaseId);
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
  });

  it('a run whose width exceeds maxConcurrency without supportsN is refused at creation with a 400 that says why', async () => {
    const name = `narrow-${crypto.randomUUID().slice(0, 6)}`;
    const put = await api(`/v1/endpoints/${name}`, {
      method: 'PUT',
      json: {
        baseUrl: `${inject('simPolicyUrl')}/v1`,
        model: 'sim-policy',
        maxConcurrency: 2,
        supportsN: false,
      },
    });
    expect(put.status).toBe(200);
    const refused = await api('/v1/runs', { method: 'POST', json: { tasks: [0], width: 3, policy: name } });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('width_exceeds_concurrency');
    expect(body.error.message).toMatch(/width 3 .* maxConcurrency is 2/);
    const fits = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0], width: 2, iterations: 1, depth: 2, policy: name },
    });
    expect(fits.status).toBe(201);
  });
});

describe('jobs: attempts, slow endpoints and cancel', () => {
  it('an endpoint slower than the job deadline with capacity 1: never two requests in flight on one env id; the run view says what each task waits for', async () => {
    // The fault proxy holds every completion 1.5 s (the job deadline is 1 s) and counts the
    // requests in flight per env id of the TextCraft server behind it (a fake: a real server
    // cannot report that).
    const proxy = await proxySpace({ completionDelayMs: 1500 });
    const bucket = await runCompletedHook();
    const policy = await putEndpoint(proxy.llm, { maxConcurrency: 1 });
    const start = Date.now();
    const spec = {
      env: 'agentgym',
      flavor: 'textcraft',
      envServer: proxy.env,
      tasks: [3, 4],
      iterations: 1,
      width: 2,
      depth: 3,
      seed: 5,
      policy,
      jobTimeoutMs: 1000,
    };
    const created = await api('/v1/runs', { method: 'POST', json: spec });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // While it runs, GET /v1/runs/:id names what each unfinished task waits for and since when.
    const seen = await eventually(async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunDetail;
      return view.waiting.some((w) => w.waitingFor.includes('a consumer is working on it')) ? view : null;
    }, 400);
    for (const wait of seen.waiting) {
      expect(wait.since).toBeGreaterThanOrEqual(start - 1000);
      expect(wait.since).toBeLessThanOrEqual(Date.now());
    }
    const run = await eventually(async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunDetail;
      return ['completed', 'partial', 'failed'].includes(view.status) ? view : null;
    }, 2400);
    const stats = await proxy.stats();
    console.log(
      `slow endpoint: run ${run.status} in ${Date.now() - start} ms; env requests ${stats.envRequests}, ` +
        `max in flight per env id ${stats.maxInFlightPerEnv}, completions ${stats.completions}, max concurrent ${stats.maxInFlightCompletions}`,
    );
    expect(run.status).toBe('completed');
    expect(run.counters.failedJobs).toBe(0);
    expect(run.waiting).toEqual([]);
    expect(stats.envRequests).toBeGreaterThan(0);
    expect(stats.maxInFlightPerEnv).toBe(1);
    expect(stats.maxInFlightCompletions).toBe(1);
    await expectSettled(id, bucket);
    // The same run on the endpoint at full speed: the slowness changed no tree and no record.
    await proxy.arm({ completionDelayMs: 0 });
    const fast = await api('/v1/runs', { method: 'POST', json: spec });
    expect(fast.status).toBe(201);
    const { id: clean } = (await fast.json()) as { id: string };
    expect(await expectSettled(clean, bucket)).toMatchObject({ status: 'completed' });
    expect(await runOutputs(id, spec.tasks)).toEqual(await runOutputs(clean, spec.tasks));
  });

  it('a result or failure of a superseded attempt is ignored and the attempt is told to stop', async () => {
    const stub = env.TASK_TREE.get(env.TASK_TREE.idFromName(`attempts:${crypto.randomUUID()}`));
    await stub.start(
      'run_attempts',
      0,
      (await import('../../shared/contracts/run-spec')).runSpecSchema.parse({ tasks: [0] }),
    );
    expect(await stub.keepAlive('root', 1)).toBe(true);
    // Attempt 1 is given up (a deadline passed): attempt 2 is the current one.
    await stub.failJob('root', 'no result within the deadline (attempt 1)', true, 1);
    expect(await stub.keepAlive('root', 1)).toBe(false);
    expect(await stub.keepAlive('root', 2)).toBe(true);
    // The read-only check (before an inference call) says the same.
    expect(await stub.isCurrent('root', 1)).toBe(false);
    expect(await stub.isCurrent('root', 2)).toBe(true);
    expect(await stub.isCurrent('nope', 1)).toBe(false);
    // Attempt 1's late failure does not use up an attempt of attempt 2, its late result is refused.
    await stub.failJob('root', 'late failure of attempt 1', true, 1);
    const root = { kind: 'root' as const, observation: 'Goal: craft x.', snapshot: null, prefix: [] };
    expect(await stub.completeJob('root', root, 1)).toEqual({ accepted: false });
    expect(((await stub.getJob('root')) as { attempt: number }).attempt).toBe(2);
    expect(await stub.completeJob('root', root, 2)).toEqual({ accepted: true });
  });

  it('cancel while trees are being started: every tree ends cancelled, no inference call after it answers, no records', async () => {
    const proxy = await proxySpace({});
    const bucket = await runCompletedHook();
    const policy = await putEndpoint(proxy.llm, { maxConcurrency: 8 });
    const tasks = Array.from({ length: 120 }, (_, i) => i);
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks, iterations: 2, width: 2, depth: 4, seed: 9, policy },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // The ledger starts trees in chunks of 50 from its alarm: cancel while that is going on.
    await eventually(async () => (await taskTreeStub(env, id, 0).status()) !== null, 200, 10);
    const cancelled = await api(`/v1/runs/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    const answeredAt = Date.now();
    const atCancel = (await proxy.stats()).completions ?? 0;
    await new Promise((r) => setTimeout(r, 3000));
    const later = (await proxy.stats()).completions ?? 0;
    const statuses = await Promise.all(tasks.map((task) => taskTreeStub(env, id, task).status()));
    const started = statuses.filter((s) => s !== null);
    console.log(
      `cancel: ${started.length} trees started; completions at cancel ${atCancel}, 3 s later ${later}; ` +
        `${Date.now() - answeredAt} ms`,
    );
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((s) => s === 'cancelled')).toBe(true);
    // Calls already on their way may land; none starts later than a moment after the answer.
    expect(later - atCancel).toBeLessThanOrEqual(8);
    const ledger = await runLedgerStub(env, id).status();
    expect(ledger?.status).toBe('cancelled');
    expect(ledger?.tasks.every((t) => t.status === 'cancelled' || t.status === 'done')).toBe(true);
    const d1 = await eventually(async () => {
      const row = await env.DB.prepare('SELECT status FROM runs WHERE id = ?')
        .bind(id)
        .first<{ status: string }>();
      return row?.status === 'cancelled' ? row : null;
    }, 100);
    expect(d1.status).toBe('cancelled');
    const records = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
      .bind(id)
      .first<{ n: number }>();
    expect(records?.n).toBe(0);
    expect((await expectSettled(id, bucket)).status).toBe('cancelled');
  });

  it('cancel while jobs wait for a slot: the gate drops their waits before the cancel answers, no call after it', async () => {
    // One slot, 600 ms per completion: most expansions wait at the gate. The job deadline is the
    // default 2 minutes, so a job granted a slot after a short wait does not ask its tree again:
    // only the gate's revocation keeps it from calling after the cancel.
    const proxy = await proxySpace({ completionDelayMs: 600 });
    const bucket = await runCompletedHook();
    const policy = await putEndpoint(proxy.llm, { maxConcurrency: 1 });
    const gate = endpointGateStub(env, policy);
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0, 1, 2, 3, 4, 5], iterations: 2, width: 2, depth: 4, seed: 21, policy },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const before = await eventually(async () => {
      const stats = await gate.stats();
      return stats.queued >= 3 ? stats : null;
    }, 300);
    const cancelled = await api(`/v1/runs/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    const afterCancel = await gate.stats();
    const atCancel = (await proxy.stats()).completions ?? 0;
    await new Promise((r) => setTimeout(r, 3000));
    const later = (await proxy.stats()).completions ?? 0;
    console.log(
      `cancel with ${before.queued} waiting for 1 slot: ${afterCancel.queued} waiting after the answer; ` +
        `completions ${atCancel} -> ${later}`,
    );
    expect(afterCancel.queued).toBe(0);
    // At most the one call that held the slot when the cancel answered.
    expect(later - atCancel).toBeLessThanOrEqual(1);
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
    expect((await expectSettled(id, bucket)).status).toBe('cancelled');
  });

  it('cancel while splices run: no inference call after it answers, no record written afterwards', async () => {
    const proxy = await proxySpace({});
    const bucket = await runCompletedHook();
    const policy = await putEndpoint(proxy.llm, { maxConcurrency: 8 });
    const tasks = Array.from({ length: 12 }, (_, i) => i);
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks, iterations: 2, width: 2, depth: 5, seed: 13, policy },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // Cancel the moment any task is splicing (its trees searched and judged, records being cut).
    const splicing = await eventually(
      async () => {
        const statuses = await Promise.all(tasks.map((task) => taskTreeStub(env, id, task).status()));
        return statuses.includes('splicing') ? statuses : null;
      },
      3000,
      5,
    );
    const cancelled = await api(`/v1/runs/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    const countRecords = async () => {
      const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
        .bind(id)
        .first<{ n: number }>();
      return row?.n ?? 0;
    };
    const atCancel = { calls: (await proxy.stats()).completions ?? 0, records: await countRecords() };
    await new Promise((r) => setTimeout(r, 3000));
    const later = { calls: (await proxy.stats()).completions ?? 0, records: await countRecords() };
    console.log(
      `cancel while splicing (${splicing.filter((s) => s === 'splicing').length} splicing): ` +
        `calls ${atCancel.calls} -> ${later.calls}, records ${atCancel.records} -> ${later.records}`,
    );
    // Calls already on their way may land; none starts later than a moment after the answer.
    expect(later.calls - atCancel.calls).toBeLessThanOrEqual(8);
    // No record is written after the answer (a splice finishing late takes its records back).
    expect(later.records).toBeLessThanOrEqual(atCancel.records);
    const statuses = await Promise.all(tasks.map((task) => taskTreeStub(env, id, task).status()));
    expect(statuses.every((s) => s === null || s === 'cancelled' || s === 'done')).toBe(true);
    const ledger = await runLedgerStub(env, id).status();
    expect(ledger?.status).toBe('cancelled');
    // The records of a task that did not finish are gone from R2 too.
    for (const task of tasks) {
      if (statuses[task] !== 'cancelled') continue;
      for (const kind of ['revision', 'good'] as const) {
        const object = await env.BUCKET.get(taskRecordsKey(id, task, kind));
        expect(object ? (await object.text()).trim() : '').toBe('');
      }
    }
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('cancelled');
    // Still no record written later than the answer to the cancel.
    expect(settled.indexRows).toBeLessThanOrEqual(atCancel.records);
  });
});
