import { describe, expect, it } from 'vitest';
import {
  cutStep,
  firstErrorStep,
  judgeInputsFor,
  nodesAwaitingJudgement,
  referenceJudgeCalls,
  sharedJudgeCalls,
  uniqueBadPaths,
} from '../../../shared/revision/first-error';
import { collectTaskPairs } from '../../../shared/revision/pairs';
import { buildVerifierPrompt } from '../../../shared/prompts/verifier';
import { judge, step, treeOf } from './tree-builder';

// root -> a -> b (1.0) | b2 (0.9) | x -> y (0) | x -> u (0);  root -> v (0)
function frontierTree() {
  return treeOf([
    step('a', {}, [
      step('b', { reward: 1 }),
      step('b2', { reward: 0.9 }),
      step('x', {}, [step('y', { reward: 0 }), step('u', { reward: 0 })]),
    ]),
    step('v', { reward: 0 }),
  ]);
}

describe('first error step', () => {
  it('is the first step judged bad, or the last step when none is', () => {
    const n = (judgement: 'good' | 'bad' | 'uncertain' | null) => ({ judgement });
    expect(firstErrorStep([n(null), n('good'), n('bad'), n('bad')])).toBe(2);
    expect(firstErrorStep([n(null), n('good'), n('uncertain'), n('good')])).toBe(3);
    expect(firstErrorStep([n(null), n('bad'), n(null)])).toBe(1);
  });

  it('refuses unjudged steps unless told to read them as Uncertain', () => {
    const path = [{ judgement: null }, { judgement: null }, { judgement: 'bad' as const }];
    expect(() => firstErrorStep(path)).toThrow(/not judged/);
    expect(firstErrorStep(path, { unjudged: 'uncertain' })).toBe(2);
  });

  it('cuts at the end of the path for Direct-Revision, judged or not', () => {
    const path = [{ judgement: null }, { judgement: 'bad' as const }, { judgement: null }];
    expect(cutStep(path, 'end')).toBe(2);
    expect(cutStep(path, 'model')).toBe(1);
  });
});

describe('judgement frontier', () => {
  it('asks for each shared node once and walks bad paths in order until the first Bad', () => {
    const tree = frontierTree();
    const { pairs } = collectTaskPairs(tree, { alpha: 0.5, beta: 0.2 });
    const badPaths = uniqueBadPaths(pairs);
    expect(badPaths.map((p) => p.leafId).sort()).toEqual(['u', 'v', 'y']);

    expect(
      nodesAwaitingJudgement(tree, badPaths)
        .map((n) => n.id)
        .sort(),
    ).toEqual(['a', 'v']);
    judge(tree, { a: 'good', v: 'uncertain' });
    expect(nodesAwaitingJudgement(tree, badPaths).map((n) => n.id)).toEqual(['x']);
    judge(tree, { x: 'bad' });
    // y and u lie after the first Bad: never judged.
    expect(nodesAwaitingJudgement(tree, badPaths)).toEqual([]);
    expect(badPaths.map((p) => `${p.leafId}:${firstErrorStep(p)}`).sort()).toEqual(['u:2', 'v:1', 'y:2']);
  });

  it('reads current judgements from the tree, so paths from an older copy work', () => {
    const tree = frontierTree();
    const badIds = [['root', 'a', 'x', 'y'].map((id) => ({ id }))];
    expect(nodesAwaitingJudgement(tree, badIds).map((n) => n.id)).toEqual(['a']);
    judge(tree, { a: 'good', x: 'good' });
    expect(nodesAwaitingJudgement(tree, badIds).map((n) => n.id)).toEqual(['y']);
    judge(tree, { y: 'good' });
    expect(nodesAwaitingJudgement(tree, badIds)).toEqual([]);
    expect(() => nodesAwaitingJudgement(tree, [[{ id: 'root' }, { id: 'nope' }]])).toThrow(/not in the tree/);
  });

  it('judges blocks of steps at once, the same nodes whatever order the answers come in', () => {
    const tree = frontierTree();
    const badIds = [['root', 'a', 'x', 'y'].map((id) => ({ id }))];
    // Block 2: steps 1-2 (a, x) together, then step 3 (y) only if neither was Bad.
    expect(nodesAwaitingJudgement(tree, badIds, 2).map((n) => n.id)).toEqual(['a', 'x']);
    judge(tree, { x: 'bad' });
    // a is still on its way: the block is not done, so nothing new and not resolved either.
    expect(nodesAwaitingJudgement(tree, badIds, 2).map((n) => n.id)).toEqual(['a']);
    judge(tree, { a: 'good' });
    expect(nodesAwaitingJudgement(tree, badIds, 2)).toEqual([]);

    const other = frontierTree();
    judge(other, { a: 'good', x: 'good' });
    expect(nodesAwaitingJudgement(other, badIds, 2).map((n) => n.id)).toEqual(['y']);
    expect(() => nodesAwaitingJudgement(other, badIds, 0)).toThrow(RangeError);
  });

  it('counts the reference judge calls (per pair, re-judged) against ours (per node)', () => {
    const tree = frontierTree();
    judge(tree, { a: 'good', v: 'uncertain', x: 'bad' });
    const { pairs } = collectTaskPairs(tree, { alpha: 0.5, beta: 0.2 });
    // Good paths b and b2; bad paths y (t'=2), u (t'=2), v (t'=1): 2 * (2 + 2 + 1).
    expect(pairs).toHaveLength(6);
    expect(referenceJudgeCalls(pairs, 'model')).toBe(10);
    expect(sharedJudgeCalls(pairs, 'model')).toBe(3); // a, x, v
    expect(referenceJudgeCalls(pairs, 'end')).toBe(0);
    expect(sharedJudgeCalls(pairs, 'end')).toBe(0);
  });
});

describe('judge inputs', () => {
  it('gives the task description, the earlier (action, observation) pairs and the current step', () => {
    const tree = frontierTree();
    const inputs = judgeInputsFor(tree, 'y');
    expect(inputs).toEqual({
      nodeId: 'y',
      step: 3,
      taskDescription: 'Goal: craft 1 stick.',
      history: [
        { action: 'do a', observation: 'observed a' },
        { action: 'do x', observation: 'observed x' },
      ],
      current: { action: 'do y', observation: 'observed y' },
    });
    expect(buildVerifierPrompt(inputs)).toContain('do y');
    expect(judgeInputsFor(tree, 'a', 'custom task').history).toEqual([]);
    expect(judgeInputsFor(tree, 'a', 'custom task').taskDescription).toBe('custom task');
    expect(() => judgeInputsFor(tree, 'root')).toThrow(/never judged/);
  });
});
