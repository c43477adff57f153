import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCraftingSession } from '../../../shared/env/crafting/engine';
import type { World } from '../../../shared/env/crafting/world';
import type { EnvSession } from '../../../shared/env/types';
import { collectTaskPairs, referenceJudgeCalls } from '../../../shared/revision';
import type { TreeNode } from '../../../shared/contracts/tree-file';
import { runReferenceBaseline } from '../../../cli/bench/reference-baseline/baseline';
import { actionForRun } from '../../../shared/run-conversation';
import { type SimPolicyServer, startSimPolicy } from '../../../cli/sim-policy/server';

let sim: SimPolicyServer;
beforeAll(async () => {
  sim = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, seed: 0 });
});
afterAll(async () => {
  await sim.close();
});

const spec = { tasks: [1], iterations: 3, width: 3, depth: 6, seed: 0 };

/** The crafting engine, counting what the baseline asks of it. */
function countingSessions() {
  const counts = { opened: 0, resets: 0, steps: 0, snapshots: 0, restores: 0 };
  const open = (world: World): EnvSession => {
    counts.opened += 1;
    const inner = createCraftingSession(world);
    return {
      reset: (task) => {
        counts.resets += 1;
        return inner.reset(task);
      },
      step: (action) => {
        counts.steps += 1;
        return inner.step(action);
      },
      snapshot: () => {
        counts.snapshots += 1;
        return inner.snapshot();
      },
      restore: (snapshot) => {
        counts.restores += 1;
        return inner.restore(snapshot);
      },
      close: () => inner.close(),
    };
  };
  return { counts, open };
}

function nodes(root: TreeNode): TreeNode[] {
  const out: TreeNode[] = [];
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    out.push(node);
    stack.push(...node.children);
  }
  return out;
}

describe('reference baseline: the reference call pattern', () => {
  it('sends width single-sample requests per expansion and replays the env from the root for every child', async () => {
    sim.resetStats();
    const { counts, open } = countingSessions();
    const result = await runReferenceBaseline({
      endpoint: { name: 'ref', baseUrl: `${sim.url}/v1`, model: 'sim-policy' },
      spec,
      openSession: open,
    });
    const task = result.tasks[0]!;
    expect(task.policyCalls).toBe(task.expansions * spec.width);
    // One reset for the first observation, then one per sampled child; never a snapshot.
    expect(counts.resets).toBe(1 + task.policyCalls);
    expect(counts.snapshots + counts.restores).toBe(0);
    expect(task.envResets).toBe(counts.resets);
    // Each child replays its parent's path (depth actions) and takes its own step.
    const all = nodes(task.tree.root);
    const expanded = all.filter((n) => n.children.length > 0);
    const replayedSteps = expanded.reduce((sum, n) => sum + spec.width * (n.depth + 1), 0);
    expect(counts.steps).toBe(replayedSteps);

    // Every request is a single sample: requests = completions = policy + judge calls.
    const stats = sim.stats();
    expect(stats.requests).toBe(task.policyCalls + task.judgeCalls);
    expect(stats.completions).toBe(stats.requests);
    expect(stats.byKind.policy).toBe(task.policyCalls);
    expect(stats.byKind.judge).toBe(task.judgeCalls);
  });

  it('judges per pair without reuse: exactly the reference judge-call count of its pairs', async () => {
    const result = await runReferenceBaseline({
      endpoint: { name: 'ref', baseUrl: `${sim.url}/v1`, model: 'sim-policy' },
      spec: { ...spec, tasks: [0, 1, 2], iterations: 4 },
    });
    let pairsTotal = 0;
    for (const task of result.tasks) {
      const { pairs } = collectTaskPairs(task.tree, { alpha: 0.5, beta: 0.2, seed: 0 });
      pairsTotal += pairs.length;
      expect(task.pairs).toBe(pairs.length);
      expect(task.judgeCalls).toBe(referenceJudgeCalls(pairs, 'model', { unjudged: 'uncertain' }));
      expect(task.sharedJudgeCalls).toBeLessThanOrEqual(task.judgeCalls);
    }
    expect(pairsTotal).toBeGreaterThan(0);
    expect(result.judgeCalls).toBeGreaterThan(result.tasks.reduce((s, t) => s + t.sharedJudgeCalls, 0));
    expect(result.wallMs).toBeGreaterThan(0);
  });

  it('measures tasks at once or replays repeated judge requests without changing the results', async () => {
    const endpoint = { name: 'ref', baseUrl: `${sim.url}/v1`, model: 'sim-policy' };
    const twoTasks = { ...spec, tasks: [0, 2] };
    const sequential = await runReferenceBaseline({ endpoint, spec: twoTasks });
    sim.resetStats();
    const fast = await runReferenceBaseline({
      endpoint,
      spec: twoTasks,
      tasksAtOnce: 2,
      judgeRepeats: 'replay-timing',
    });
    expect(fast.tasksAtOnce).toBe(2);
    expect(fast.tasks.map((t) => t.tree)).toEqual(sequential.tasks.map((t) => t.tree));
    expect(fast.judgeCalls).toBe(sequential.judgeCalls);
    expect(fast.revision).toBe(sequential.revision);
    // Repeats are counted but not sent.
    expect(sim.stats().byKind.judge).toBe(fast.judgeCalls - fast.judgeCallsReplayed);
  });

  it('parses actions like the expander does for crafting', () => {
    expect(actionForRun({ env: 'crafting' }, 'Thought: I need sticks.\nAction: get 2 oak planks!')).toBe(
      'get 2 oak planks',
    );
    expect(actionForRun({ env: 'crafting' }, 'Thought: x\nAction: 1. craft 4 stick using 2 oak planks')).toBe(
      'craft 4 stick using 2 oak planks',
    );
  });
});
