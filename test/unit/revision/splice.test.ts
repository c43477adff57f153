import { describe, expect, it } from 'vitest';
import type { LossMessage } from '../../../shared/revision/conversation';
import { findLeafPaths, type LeafPath } from '../../../shared/revision/leaf-paths';
import { indexRowOf, nativeRecordSchema } from '../../../shared/revision/native-record';
import { defaultRevisionSentences } from '../../../shared/revision/revision-sentences';
import {
  branchStep,
  buildGoodRecord,
  buildRevisionRecord,
  spliceRevisionLog,
} from '../../../shared/revision/splice';
import { spliceTask } from '../../../shared/revision/splice-task';
import { judge, rootPrefix, step, treeOf } from './tree-builder';

// root -> s1 -> s2 -> g3 -> g4 (reward 1)
//                 \-> b3 -> b4 (reward 0)      shared prefix t = 2, branch point 3
function deepTree() {
  return treeOf([
    step('s1', {}, [
      step('s2', {}, [step('g3', {}, [step('g4', { reward: 1, done: true })]), step('b3', {}, [step('b4')])]),
    ]),
  ]);
}

const prefix: LossMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'You are in a crafting world. Reply with Thought and Action.' },
  { role: 'assistant', content: 'Ok.', loss: false },
  { role: 'user', content: 'Goal: craft 1 stick.' },
];
const A = (id: string, loss: boolean): LossMessage => ({
  role: 'assistant',
  content: `Thought: step ${id}.\nAction: do ${id}`,
  loss,
});
const O = (id: string): LossMessage => ({ role: 'user', content: `observed ${id}` });
/** The turns of steps `ids`: response (trained or not) + observation. */
const untrained = (...ids: string[]): LossMessage[] => ids.flatMap((id) => [A(id, false), O(id)]);
const trained = (...ids: string[]): LossMessage[] => ids.flatMap((id) => [A(id, true), O(id)]);
const S = 'I went wrong; let me try again.';
const REFLECT: LossMessage[] = [
  { role: 'assistant', content: `Thought: ${S}\nAction: wait`, loss: true },
  { role: 'user', content: 'ok.' },
];

function paths(tree: ReturnType<typeof deepTree>): { good: LeafPath; bad: LeafPath } {
  const all = findLeafPaths(tree.root);
  return {
    good: all.find((p) => p.leafId === 'g4') as LeafPath,
    bad: all.find((p) => p.leafId === 'b4') as LeafPath,
  };
}

const splice = (cut: number) => {
  const { good, bad } = paths(deepTree());
  return spliceRevisionLog({ rootPrefix, good: good.nodes, bad: bad.nodes, cut, sentence: S });
};

describe('splicing (golden)', () => {
  it("first error after the branch point: bad steps up to t', reflection, good suffix from the branch point", () => {
    const result = splice(3);
    expect(result?.suffixStart).toBe(3);
    expect(result?.log).toEqual([
      ...prefix,
      ...untrained('s1', 's2', 'b3'),
      ...REFLECT,
      ...trained('g3', 'g4'),
    ]);
  });

  it("first error inside the shared prefix: the good suffix starts at t'+1, re-taking shared steps", () => {
    const result = splice(1);
    expect(result?.suffixStart).toBe(2);
    expect(result?.log).toEqual([...prefix, ...untrained('s1'), ...REFLECT, ...trained('s2', 'g3', 'g4')]);
  });

  it('Direct-Revision (the end of the bad path) keeps every bad step', () => {
    const result = splice(4);
    expect(result?.suffixStart).toBe(3);
    expect(result?.log).toEqual([
      ...prefix,
      ...untrained('s1', 's2', 'b3', 'b4'),
      ...REFLECT,
      ...trained('g3', 'g4'),
    ]);
  });

  it('treats different nodes with identical text as one shared step, as the reference compares logs', () => {
    // Both branches start with the same response text from different nodes.
    const tree = treeOf([
      step('p', { response: 'Thought: same.\nAction: get log' }, [step('pg', { reward: 1 })]),
      step('q', { response: 'Thought: same.\nAction: get log', observation: 'observed q' }, [
        step('q2', { reward: 0 }),
      ]),
    ]);
    const all = findLeafPaths(tree.root);
    const good = all.find((p) => p.leafId === 'pg') as LeafPath;
    const bad = all.find((p) => p.leafId === 'q2') as LeafPath;
    expect(branchStep(good.nodes, bad.nodes)).toBe(2);
    const result = spliceRevisionLog({ rootPrefix, good: good.nodes, bad: bad.nodes, cut: 2, sentence: S });
    expect(result?.log).toEqual([
      ...prefix,
      { role: 'assistant', content: 'Thought: same.\nAction: get log', loss: false },
      O('q'),
      ...untrained('q2'),
      ...REFLECT,
      ...trained('pg'),
    ]);
    // Cut inside that identical prefix: the good path's own copy of the step is re-taken.
    expect(
      spliceRevisionLog({ rootPrefix, good: good.nodes, bad: bad.nodes, cut: 1, sentence: S })?.suffixStart,
    ).toBe(2);
  });

  it('returns null when no good step would remain, and rejects a cut outside the bad path', () => {
    const tree = treeOf([
      step('p', { response: 'same' }),
      step('q', { response: 'same', terminal: false }, [step('q2')]),
    ]);
    tree.root.children[0]!.reward = 1;
    const all = findLeafPaths(tree.root);
    const good = all.find((p) => p.leafId === 'p') as LeafPath;
    const bad = all.find((p) => p.leafId === 'q2') as LeafPath;
    expect(
      spliceRevisionLog({ rootPrefix, good: good.nodes, bad: bad.nodes, cut: 2, sentence: S }),
    ).toBeNull();
    expect(() =>
      spliceRevisionLog({ rootPrefix, good: good.nodes, bad: bad.nodes, cut: 0, sentence: S }),
    ).toThrow(RangeError);
    expect(() =>
      spliceRevisionLog({ rootPrefix, good: good.nodes, bad: bad.nodes, cut: 3, sentence: S }),
    ).toThrow(RangeError);
  });

  it('rejects a root prefix that does not end with the first observation', () => {
    const { good, bad } = paths(deepTree());
    const broken = rootPrefix.slice(0, 3);
    expect(() =>
      spliceRevisionLog({ rootPrefix: broken, good: good.nodes, bad: bad.nodes, cut: 1, sentence: S }),
    ).toThrow(/end with a user turn/);
  });
});

describe('records', () => {
  const ctx = { runId: 'run-1', task: 3, rootPrefix, env: 'crafting', model: 'm' };

  it('a revision record carries the reference fields and ours', () => {
    const tree = deepTree();
    judge(tree, { s1: 'good', s2: 'uncertain', b3: 'bad' });
    const { good, bad } = paths(tree);
    const record = buildRevisionRecord(
      ctx,
      { good, bad },
      { transition: 'model', cut: 3, sentence: S, feedbackText: (id) => `why ${id}` },
    );
    expect(record).not.toBeNull();
    const parsed = nativeRecordSchema.parse(record);
    expect(parsed).toMatchObject({
      task_num: '3',
      task: 3,
      run_id: 'run-1',
      kind: 'revision',
      revise: true,
      first_error_step: 3,
      branch_step: 3,
      reward_good: 1,
      reward_bad: 0,
      good_leaf: 'g4',
      bad_leaf: 'b4',
      env: 'crafting',
      model: 'm',
      task_description: 'Goal: craft 1 stick.',
    });
    expect(parsed.revise_feedback).toEqual([
      { revision_feedback: 'why s1', action: 'do s1', obs: 'observed s1', judgement: 'Good' },
      { revision_feedback: 'why s2', action: 'do s2', obs: 'observed s2', judgement: 'Uncertain' },
      { revision_feedback: 'why b3', action: 'do b3', obs: 'observed b3', judgement: 'Bad' },
    ]);
    expect(parsed.high_log).toEqual([...prefix, ...trained('s1', 's2', 'g3', 'g4')]);
    expect(parsed.low_log).toEqual([...prefix, ...untrained('s1', 's2', 'b3', 'b4')]);
    // Stable id: same inputs, same id; another pair, another id.
    expect(buildRevisionRecord(ctx, { good, bad }, { transition: 'model', cut: 3, sentence: 'x' })?.id).toBe(
      parsed.id,
    );
    expect(buildGoodRecord(ctx, good).id).not.toBe(parsed.id);
    expect(indexRowOf(parsed)).toEqual({
      run_id: 'run-1',
      task: 3,
      kind: 'revision',
      id: parsed.id,
      env: 'crafting',
      first_error_step: 3,
      branch_step: 3,
      reward_good: 1,
      reward_bad: 0,
      bad_steps: 3,
      good_steps: 2,
      turns: parsed.revise_log.length,
      trained_messages: 3,
      chars: parsed.revise_log.reduce((n, m) => n + m.content.length, 0),
    });
  });

  it('a good record trains every step and says revise: false', () => {
    const { good } = paths(deepTree());
    const record = nativeRecordSchema.parse(buildGoodRecord(ctx, good));
    expect(record.revise).toBe(false);
    expect(record.kind).toBe('good');
    expect(record.revise_log).toEqual([...prefix, ...trained('s1', 's2', 'g3', 'g4')]);
    expect(record.first_error_step).toBeNull();
    expect(indexRowOf(record).good_steps).toBe(4);
  });
});

describe('spliceTask', () => {
  it('splices every pair with the model-guided cut and writes good records', () => {
    const tree = deepTree();
    judge(tree, { s1: 'good', s2: 'good', b3: 'bad' });
    const result = spliceTask(tree, { runId: 'r', rootPrefix }, { seed: 7 });
    expect(result.skipped).toBeNull();
    expect(result.pairs).toBe(1);
    expect(result.revision).toHaveLength(1);
    expect(result.good.map((r) => r.good_leaf)).toEqual(['g4']);
    expect(result.revision[0]?.first_error_step).toBe(3);
    expect(result.referenceJudgeCalls).toBe(3);
    expect(result.judgeCalls).toBe(3);
    const sentence = result.revision[0]?.revise_log.find((m) => m.content.endsWith('Action: wait'))?.content;
    expect(defaultRevisionSentences.map((s) => `Thought: ${s}\nAction: wait`)).toContain(sentence);
  });

  it('Direct-Revision needs no judgements and keeps the whole bad path', () => {
    const result = spliceTask(deepTree(), { runId: 'r', rootPrefix }, { transition: 'end' });
    expect(result.revision[0]?.first_error_step).toBe(4);
    expect(result.revision[0]?.revise).toBe(false);
    expect(result.revision[0]?.revise_feedback).toEqual([]);
    expect(result.referenceJudgeCalls).toBe(0);
  });

  it('stops on unjudged steps unless they are to be read as Uncertain', () => {
    expect(() => spliceTask(deepTree(), { runId: 'r', rootPrefix }, {})).toThrow(/not judged/);
    const lenient = spliceTask(deepTree(), { runId: 'r', rootPrefix }, { unjudged: 'uncertain' });
    expect(lenient.revision[0]?.first_error_step).toBe(4);
    expect(lenient.judgeCalls).toBe(0);
  });

  it("draws sentences from the run's own pool, reproducibly", () => {
    const tree = deepTree();
    judge(tree, { s1: 'bad' });
    const pool = ['Mine one.', 'Mine two.'];
    const a = spliceTask(tree, { runId: 'r', rootPrefix }, { revisionSentences: pool, seed: 3 });
    const b = spliceTask(tree, { runId: 'r', rootPrefix }, { revisionSentences: pool, seed: 3 });
    expect(a).toEqual(b);
    const turn = a.revision[0]?.revise_log.find((m) => m.content.endsWith('Action: wait'))?.content ?? '';
    expect(pool.some((s) => turn === `Thought: ${s}\nAction: wait`)).toBe(true);
  });
});
