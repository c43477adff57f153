import { describe, expect, it } from 'vitest';
import { isTrained, type LossMessage } from '../../../shared/revision/conversation';
import { firstErrorStep, nodesAwaitingJudgement, uniqueBadPaths } from '../../../shared/revision/first-error';
import { pathToNode } from '../../../shared/revision/leaf-paths';
import { nativeRecordSchema } from '../../../shared/revision/native-record';
import { collectTaskPairs, isValidPair } from '../../../shared/revision/pairs';
import { createRng } from '../../../shared/random';
import { spliceTask } from '../../../shared/revision/splice-task';
import type { TreeNode } from '../../../shared/contracts/tree-file';
import { randomTree, rootPrefix } from './tree-builder';

const TREES = 150;
const settings = [
  { alpha: 0.5, beta: 0.2 },
  { alpha: 0.7, beta: 0.2 },
  { alpha: 1, beta: 0.2 },
];

function stepsOf(nodes: readonly TreeNode[], from: number, to: number, loss: boolean): LossMessage[] {
  return nodes.slice(from, to + 1).flatMap((n) => [
    { role: 'assistant' as const, content: n.response, loss },
    { role: 'user' as const, content: n.observation },
  ]);
}

function firstDifference(good: readonly TreeNode[], bad: readonly TreeNode[]): number {
  let i = 1;
  while (i < good.length && i < bad.length && good[i]?.response === bad[i]?.response) i++;
  return i;
}

describe('splicing over random trees', () => {
  it("respects thresholds, keeps the bad prefix to t', resumes the good path at the branch point, alternates roles", () => {
    const rng = createRng(2024);
    let checked = 0;
    for (let t = 0; t < TREES; t++) {
      const tree = randomTree(rng, t);
      const thresholds = settings[t % settings.length] as (typeof settings)[number];
      const transition = t % 4 === 0 ? ('end' as const) : ('model' as const);
      const result = spliceTask(
        tree,
        { runId: 'prop', rootPrefix },
        { ...thresholds, transition, seed: t, maxPairsPerTask: 12 },
      );
      expect(result.pairs).toBeLessThanOrEqual(12);
      for (const record of result.revision) {
        nativeRecordSchema.parse(record);
        checked++;
        expect(isValidPair(record.reward_good, record.reward_bad ?? 0, thresholds)).toBe(true);
        const good = pathToNode(tree, record.good_leaf) as TreeNode[];
        const bad = pathToNode(tree, record.bad_leaf ?? '') as TreeNode[];
        const cut = transition === 'end' ? bad.length - 1 : firstErrorStep(bad);
        const start = Math.min(firstDifference(good, bad), cut + 1);
        expect(record.first_error_step).toBe(cut);
        expect(record.branch_step).toBe(start);

        const log = record.revise_log;
        const p = rootPrefix.length;
        expect(log.slice(0, p).map((m) => m.content)).toEqual(rootPrefix.map((m) => m.content));
        expect(log.slice(p, p + 2 * cut)).toEqual(stepsOf(bad, 1, cut, false));
        expect(log[p + 2 * cut]?.content).toMatch(/^Thought: .+\nAction: wait$/);
        expect(log[p + 2 * cut + 1]).toEqual({ role: 'user', content: 'ok.' });
        expect(log.slice(p + 2 * cut + 2)).toEqual(stepsOf(good, start, good.length - 1, true));

        // system?, then user/assistant alternating from a user turn, ending with an observation.
        const body = log[0]?.role === 'system' ? log.slice(1) : log;
        expect(body.map((m) => m.role)).toEqual(body.map((_, i) => (i % 2 === 0 ? 'user' : 'assistant')));
        expect(body.length % 2).toBe(1);
        // Exactly the reflection and the good suffix are trained.
        const trained = log.map((m, i) => (isTrained(m) ? i : -1)).filter((i) => i >= 0);
        const expected = [
          p + 2 * cut,
          ...stepsOf(good, start, good.length - 1, true)
            .map((_, i) => p + 2 * cut + 2 + i)
            .filter((_, i) => i % 2 === 0),
        ];
        expect(trained).toEqual(expected);
      }
      for (const record of result.good) {
        expect(record.reward_good).toBeGreaterThan(thresholds.alpha >= 1 ? 0.999 : thresholds.alpha);
        expect(
          record.revise_log.filter((m) => m.role === 'assistant' && m.loss !== true).map((m) => m.content),
        ).toEqual(['Ok.']);
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('judging the frontier until it is empty judges each node at most once and resolves every bad path', () => {
    const rng = createRng(99);
    for (let t = 0; t < 60; t++) {
      const tree = randomTree(rng, t);
      // Forget the generated judgements; a fake critic fills them in frontier by frontier.
      const stack = [tree.root];
      const original = new Map<string, TreeNode['judgement']>();
      while (stack.length) {
        const n = stack.pop() as TreeNode;
        original.set(n.id, n.judgement);
        n.judgement = null;
        stack.push(...n.children);
      }
      const { pairs } = collectTaskPairs(tree, { alpha: 0.5, beta: 0.2 });
      const bad = uniqueBadPaths(pairs);
      const judged = new Set<string>();
      for (let round = 0; round < 100; round++) {
        const frontier = nodesAwaitingJudgement(tree, bad);
        if (frontier.length === 0) break;
        for (const node of frontier) {
          expect(judged.has(node.id)).toBe(false);
          judged.add(node.id);
          node.judgement = original.get(node.id) ?? 'uncertain';
        }
      }
      expect(nodesAwaitingJudgement(tree, bad)).toEqual([]);
      // Exactly the steps up to each bad path's first error were judged.
      const needed = new Set(bad.flatMap((p) => p.nodes.slice(1, firstErrorStep(p) + 1).map((n) => n.id)));
      expect(judged).toEqual(needed);
    }
  });
});
