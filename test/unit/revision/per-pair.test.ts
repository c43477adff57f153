import { describe, expect, it } from 'vitest';
import {
  collectTaskPairs,
  pairJudgeFrontier,
  pairKeyOf,
  pairKeyOfJob,
  spliceTask,
} from '../../../shared/revision';
import { rootPrefix, step, treeOf } from './tree-builder';

// root -> s1 -> { g2 (reward 1), b2 -> b3 (reward 0) }, and root -> c1 (reward 0): two bad leaves.
function twoPairTree() {
  return treeOf([
    step('s1', {}, [
      step('g2', { reward: 1, done: true }),
      step('b2', {}, [step('b3', { reward: 0, done: true })]),
    ]),
    step('c1', { reward: 0, done: true }),
  ]);
}

describe('per-pair judging (the reference pattern)', () => {
  it('asks each pair for its next step, one at a time, until its first Bad', () => {
    const tree = twoPairTree();
    const { pairs } = collectTaskPairs(tree, { alpha: 0.5, beta: 0.2, seed: 0 });
    expect(pairs.length).toBe(2);
    const keys = pairs.map(pairKeyOf);
    let frontier = pairJudgeFrontier(pairs, {});
    expect(frontier.map((j) => pairKeyOfJob(j.id))).toEqual(keys);
    expect(frontier.map((j) => j.nodeId).sort()).toEqual(['c1', 's1']);
    const viaS1 = keys.find((k) => k.endsWith('>b3'))!;
    const viaC1 = keys.find((k) => k.endsWith('>c1'))!;
    // The b3 pair judged s1 good: it now waits on b2. The c1 pair judged c1 bad: resolved.
    frontier = pairJudgeFrontier(pairs, { [viaS1]: { s1: 'good' }, [viaC1]: { c1: 'bad' } });
    expect(frontier).toEqual([{ id: `judge:${viaS1}:b2`, nodeId: 'b2' }]);
    expect(pairJudgeFrontier(pairs, { [viaS1]: { s1: 'good', b2: 'bad' }, [viaC1]: { c1: 'bad' } })).toEqual(
      [],
    );
    expect(pairKeyOfJob('judge:7')).toBeUndefined();
  });

  it("cuts each pair at its own first Bad and shows that pair's feedback", () => {
    const tree = twoPairTree();
    const { pairs } = collectTaskPairs(tree, { alpha: 0.5, beta: 0.2, seed: 0 });
    const viaS1 = pairs.map(pairKeyOf).find((k) => k.endsWith('>b3'))!;
    const viaC1 = pairs.map(pairKeyOf).find((k) => k.endsWith('>c1'))!;
    const feedback: Record<string, string> = {
      [`${viaS1}:s1`]: 'fine. Judgment: Good',
      [`${viaS1}:b2`]: 'wrong. Judgment: Bad',
      [`${viaC1}:c1`]: 'could not ask: judge failed',
    };
    const result = spliceTask(
      tree,
      { runId: 'r', rootPrefix },
      { seed: 0, unjudged: 'uncertain' },
      (key) => feedback[key],
      { [viaS1]: { s1: 'good', b2: 'bad' }, [viaC1]: { c1: 'failed' } },
    );
    const bySource = new Map(result.revision.map((r) => [r.bad_leaf, r]));
    expect(bySource.get('b3')!.first_error_step).toBe(2);
    expect(bySource.get('b3')!.revise_feedback.map((f) => [f.judgement, f.revision_feedback])).toEqual([
      ['Good', 'fine. Judgment: Good'],
      ['Bad', 'wrong. Judgment: Bad'],
    ]);
    // A failed judgement is shown as such, with the reason, and the cut goes past it.
    expect(bySource.get('c1')?.revise_feedback ?? []).toEqual(
      bySource.get('c1')
        ? [expect.objectContaining({ judgement: 'Failed', revision_feedback: 'could not ask: judge failed' })]
        : [],
    );
    // The tree's own nodes were never judged: verdicts live with the pairs.
    expect(tree.root.children[0]!.judgement).toBeNull();
  });
});
