import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  depthForRounds,
  evalCreateSchema,
  evalRunSpec,
  HELD_OUT_EVERY,
  heldOutTasks,
  isHeldOut,
  parseSplit,
  recoveryRunSpec,
  recoveryStarts,
  resolveEvalSpec,
  trainingTasks,
} from '../../../shared/eval';
import { alphaFor, signDownloadPath, verifyDownloadPath } from '../../../shared/iterations';
import type { TreeFile, TreeNode } from '../../../shared/contracts/tree-file';
import { defaultWorld } from '../../../shared/worlds';
import { chain } from './chain';

function branching(task: number): TreeFile {
  // root -> a (-> a1 reward 1, -> a2 reward 0), -> b (-> b1 -> b2 reward 0.2)
  const tree = chain(task, ['a', 'a1'], 1);
  const a = tree.root.children[0]!;
  const a2: TreeNode = { ...a.children[0]!, id: 'a2', action: 'a2', reward: 0, done: false, children: [] };
  a.children.push(a2);
  const b = chain(task, ['b', 'b1', 'b2'], 0.2).root.children[0]!;
  b.id = 'b';
  b.children[0]!.id = 'b1';
  b.children[0]!.children[0]!.id = 'b2';
  tree.root.children.push(b);
  return tree;
}

describe('recovery starts: failed trajectories cut at a seeded random step', () => {
  it('cuts one failed leaf path per tree, strictly before its last step, reproducibly', () => {
    const trees = [branching(1), chain(2, ['x', 'y', 'z', 'w'], 0), chain(3, ['ok'], 1)];
    const starts = recoveryStarts(trees, { cutSeed: 7 });
    expect(starts.map((s) => s.task)).toEqual([1, 2]); // task 3 never failed
    for (const start of starts) {
      expect(start.cutStep).toBeGreaterThanOrEqual(1);
      expect(start.cutStep).toBeLessThan(start.sourceSteps);
      expect(start.responses).toHaveLength(start.cutStep);
      expect(start.sourceReward).toBeLessThan(1);
    }
    const task2 = starts.find((s) => s.task === 2)!;
    expect(task2.responses).toEqual(
      ['Thought: next.\nAction: x', 'Thought: next.\nAction: y', 'Thought: next.\nAction: z'].slice(
        0,
        task2.cutStep,
      ),
    );
    expect(recoveryStarts(trees, { cutSeed: 7 })).toEqual(starts);
    const cuts = new Set(
      Array.from({ length: 20 }, (_, seed) => recoveryStarts([trees[1]!], { cutSeed: seed })[0]!.cutStep),
    );
    expect(cuts.size).toBeGreaterThan(1); // the seed moves the cut
  });

  it('keeps nothing of a one-step failure and skips failed expansions', () => {
    expect(recoveryStarts([chain(4, ['bad'], 0)], { cutSeed: 0 })[0]).toMatchObject({
      cutStep: 0,
      responses: [],
    });
    expect(recoveryStarts([chain(5, ['a', 'b'], 0, { errorAtEnd: 'down' })], { cutSeed: 0 })).toEqual([]);
  });
});

describe('eval run specs', () => {
  it('are greedy: one descent, one sample, temperature 0, no critique, rounds -> depth', () => {
    const input = evalCreateSchema.parse({ policy: 'sim', tasks: '4,9' });
    const spec = resolveEvalSpec(input, input.tasks!);
    expect(spec.rounds).toBe(30);
    const run = evalRunSpec('eval_x', spec);
    expect(run).toMatchObject({
      tasks: [4, 9],
      policy: 'sim',
      iterations: 1,
      width: 1,
      temperature: 0,
      transition: 'end',
      depth: depthForRounds(30),
    });
    expect(depthForRounds(30)).toBe(29); // a child deeper than depth is terminal: 30 steps at most
    const agentgym = evalCreateSchema.parse({
      policy: 'p',
      env: 'agentgym',
      flavor: 'webshop',
      envServer: 'http://x',
      tasks: [1],
    });
    expect(resolveEvalSpec(agentgym, [1]).rounds).toBe(100);
  });

  it('put the cut prefixes in the recovery run as startFrom, with 50 rounds by default', () => {
    const input = evalCreateSchema.parse({ policy: 'sim', tasks: [2], recovery: {} });
    const spec = resolveEvalSpec(input, [2]);
    const starts = recoveryStarts([chain(2, ['x', 'y', 'z'], 0)], { cutSeed: 1 });
    const run = recoveryRunSpec('eval_x', spec, starts);
    expect(run.depth).toBe(49);
    expect(run.startFrom).toEqual({ '2': starts[0]!.responses });
  });

  it('refuse agentgym evals without explicit tasks and tasks together with a split', () => {
    expect(
      evalCreateSchema.safeParse({ policy: 'p', env: 'agentgym', flavor: 'webshop', envServer: 'x' }).success,
    ).toBe(false);
    expect(evalCreateSchema.safeParse({ policy: 'p', tasks: [1], split: 'heldout' }).success).toBe(false);
  });
});

describe('splits', () => {
  it('hold out every 5th goal of a crafting world, disjoint from the training tasks', () => {
    const goals = defaultWorld.goals.length;
    const held = heldOutTasks(goals);
    expect(held.slice(0, 4)).toEqual([4, 9, 14, 19]);
    expect(held).toHaveLength(Math.floor((goals - 4 + HELD_OUT_EVERY - 1) / HELD_OUT_EVERY));
    const train = trainingTasks(goals, 20);
    expect(train).toHaveLength(20);
    expect(train.some((t) => held.includes(t))).toBe(false);
    expect(train[0]).toBe(0);
    expect(isHeldOut(goals + 4, goals)).toBe(true); // task i plays goal i % goals
  });

  it('parse AgentGym split files, id lists and task-list text', () => {
    expect(parseSplit('[{"item_id": "textcraft_3"}, {"item_id": "textcraft_10"}]')).toEqual({
      flavor: 'textcraft',
      tasks: [3, 10],
    });
    expect(parseSplit('["webshop_5", 7, "webshop_5"]')).toEqual({ flavor: 'webshop', tasks: [5, 7] });
    expect(parseSplit('{"tasks": [1, 2]}')).toEqual({ flavor: null, tasks: [1, 2] });
    expect(parseSplit('0-2, 9')).toEqual({ flavor: null, tasks: [0, 1, 2, 9] });
    expect(() => parseSplit('["webshop_1", "sciworld_2"]')).toThrow(/mixes/);
    expect(() => parseSplit('[{"name": 1}]')).toThrow(/not a task id/);
    expect(() => parseSplit('')).toThrow(/empty/);
  });

  const splitsDir = resolve(import.meta.dirname, '../../../../shared/data/splits');
  it.skipIf(!existsSync(splitsDir))('read the published test splits (100 / 200 / 200 tasks)', () => {
    const sizes: Record<string, number> = { textcraft_test: 100, webshop_test: 200, sciworld_test: 200 };
    for (const [name, size] of Object.entries(sizes)) {
      const split = parseSplit(readFileSync(resolve(splitsDir, `${name}.json`), 'utf8'));
      expect(split.flavor).toBe(name.split('_')[0]);
      expect(split.tasks).toHaveLength(size);
    }
  });
});

describe('iteration helpers', () => {
  it('follow the alpha schedule and repeat its last value', () => {
    expect([1, 2, 3, 4].map((i) => alphaFor(i, [0.5, 0.7, 1.0]))).toEqual([0.5, 0.7, 1.0, 1.0]);
  });

  it('sign download links that expire and cannot be moved to another file', async () => {
    const secret = 'a-trainer-secret-0123';
    const path = '/v1/iterations/itr_1/files/all.openai.jsonl';
    const now = 1_800_000_000;
    const link = await signDownloadPath(secret, path, now + 60);
    const url = new URL(`http://x${link}`);
    const expires = url.searchParams.get('expires') ?? undefined;
    const signature = url.searchParams.get('signature') ?? undefined;
    expect(await verifyDownloadPath(secret, path, expires, signature, now)).toEqual({ ok: true });
    expect((await verifyDownloadPath(secret, path, expires, signature, now + 61)).ok).toBe(false);
    expect(
      (await verifyDownloadPath(secret, path.replace('openai', 'native'), expires, signature, now)).ok,
    ).toBe(false);
    expect((await verifyDownloadPath('another-secret-000000', path, expires, signature, now)).ok).toBe(false);
    expect((await verifyDownloadPath(secret, path, String(now + 120), signature, now)).ok).toBe(false);
    expect((await verifyDownloadPath(secret, path, undefined, signature, now)).ok).toBe(false);
  });
});
