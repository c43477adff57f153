import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { endpointGateStub } from '../../workers/common/durable-objects';
import type { CoordinatorBindings } from '../../workers/common/env';
import { proxySpace, simEndpoint } from './fault-hooks';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook, runOutputs } from './settled';

const env = workerEnv as unknown as CoordinatorBindings;

async function createRun(spec: Record<string, unknown>): Promise<string> {
  const created = await api('/v1/runs', { method: 'POST', json: spec });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

async function ended(id: string): Promise<string> {
  return eventually(
    async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as { status: string };
      return ['completed', 'partial', 'failed', 'cancelled'].includes(view.status) ? view.status : null;
    },
    2400,
    50,
  );
}

/*
 * Why these records can be identical while the gate interleaves: without `n` support the
 * expander's width-4 sample is four single-choice requests with the seeds s, s+1, s+2, s+3, where
 * s = hash(run seed, task, node) (workers/expander/src/expand-node.ts, shared/inference/chat-client.ts
 * parallelSingles), and the answers are kept in seed order, not in order of arrival. Waiting at
 * the gate changes when a sample is taken, never what it is. What can change a tree is the order
 * in which results reach it, and that only matters with `parallelism` > 1 (see
 * test/unit/mcts/arrival-order.test.ts): at parallelism 1 every tree is the same whatever the
 * timing, and many trees of a run still contend for the gate at once.
 */
describe('durability: a gate of capacity 4 without n support, contended by two runs', () => {
  it('both runs complete with the records and trees of the same run alone; never more than 4 in flight; inUse returns to 0', async () => {
    const bucket = await runCompletedHook();
    // Every completion held 50 ms at the proxy, so the four singles of one sample overlap there.
    const proxy = await proxySpace({ completionDelayMs: 50 });
    const name = await simEndpoint(proxy.llm, { maxConcurrency: 4, supportsN: false });
    const tasks = [0, 1, 2, 3];
    const spec = { tasks, iterations: 2, width: 4, depth: 5, seed: 11, parallelism: 1, policy: name };

    // The fault-free run: alone on the gate.
    const alone = await createRun(spec);
    expect(await ended(alone)).toBe('completed');
    await expectSettled(alone, bucket);
    const reference = await runOutputs(alone, tasks);

    // Two runs at once: eight trees, each expansion asking for all 4 slots.
    const start = Date.now();
    const [a, b] = await Promise.all([createRun(spec), createRun(spec)]);
    const statuses = await Promise.all([ended(a), ended(b)]);
    const stats = await proxy.stats();
    const gate = await endpointGateStub(env, name).stats();
    console.log(
      `gate 4 without n: two runs ${statuses.join('/')} in ${Date.now() - start} ms; completions ${stats.completions}, ` +
        `max in flight ${stats.maxInFlightCompletions}; gate afterwards ${JSON.stringify(gate)}`,
    );
    expect(statuses).toEqual(['completed', 'completed']);
    // One job holds all four slots: its four requests are in flight together, never a fifth.
    expect(stats.maxInFlightCompletions).toBe(4);
    expect(gate).toMatchObject({ capacity: 4, inUse: 0, queued: 0 });
    for (const id of [a, b]) {
      const settled = await expectSettled(id, bucket);
      expect(settled.status).toBe('completed');
      const out = await runOutputs(id, tasks);
      expect(out.indexRows).toBeGreaterThan(0);
      expect(out).toEqual(reference);
    }
  }, 180_000);
});
