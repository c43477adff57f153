import { describe, expect, it } from 'vitest';
import { recordFeatures, type RecordFeatures } from '../../../shared/curation/features';
import { curate } from '../../../shared/curation/presets';
import {
  capPerTask,
  dropErrorRepeats,
  dropFailureLoops,
  preferShortestPartners,
  removeDuplicates,
} from '../../../shared/curation/rules';
import { conversationSteps, isRejection } from '../../../shared/curation/steps';
import { spliceTask } from '../../../shared/revision/splice-task';
import { judge, rootPrefix } from '../revision/tree-builder';
import { craftingRecords, craftingTree, pairRecord } from './fixture';

const all = () => {
  const { revision, good } = craftingRecords();
  return [...revision, ...good];
};
const features = () => all().map(recordFeatures);
const ids = (records: readonly RecordFeatures[]) => records.map((r) => r.id).sort();

describe('what a record says about its actions', () => {
  it("recognises the environments' rejections and nothing else", () => {
    expect(isRejection('Could not find oak timber')).toBe(true);
    expect(isRejection('Could not execute dance')).toBe(true);
    expect(isRejection('Wrong item format: oak planks')).toBe(true);
    expect(isRejection('No known action matches that input.')).toBe(true);
    expect(isRejection('Got 1 oak log')).toBe(false);
    expect(isRejection('Inventory: You are not carrying anything.')).toBe(false);
  });

  it('reads each assistant turn as a normalised action with its observation', () => {
    const steps = conversationSteps([
      { role: 'user', content: 'Goal' },
      { role: 'assistant', content: 'Thought: x\nAction: Get 4 Oak Timber.', loss: true },
      { role: 'user', content: 'Could not find oak timber' },
      { role: 'assistant', content: 'Thought: sorry\nAction: wait', loss: true },
      { role: 'user', content: 'ok.' },
    ]);
    expect(steps).toEqual([
      {
        turn: 1,
        action: 'get 4 oak timber',
        observation: 'Could not find oak timber',
        rejected: true,
        trained: true,
        reflection: false,
      },
      { turn: 3, action: 'wait', observation: 'ok.', rejected: false, trained: true, reflection: true },
    ]);
  });

  it('computes features from the spliced records', () => {
    const { revision, good } = craftingRecords();
    const withR = recordFeatures(pairRecord(revision, 'r4', 'b3a'));
    // Trained: r2 (rejected, = the judged error b2), r3 (rejected, repeats r2), r4.
    expect(withR).toMatchObject({
      trainedActions: 3,
      trainedRejected: 2,
      trainedRepeatsOfFailure: 1,
      firstActionRepeatsError: true,
      errorVsBranch: 0,
      trainedTurns: 4, // the reflection turn too
    });
    const withG = recordFeatures(pairRecord(revision, 'g3', 'b3a'));
    expect(withG).toMatchObject({
      trainedActions: 2,
      trainedRejected: 0,
      trainedRepeatsOfFailure: 0,
      firstActionRepeatsError: false,
    });
    // The two bad paths are cut after b2, the same prefix: the same conversation.
    expect(withG.contentKey).toBe(recordFeatures(pairRecord(revision, 'g3', 'b3b')).contentKey);
    expect(withG.judged.map((j) => j.label)).toEqual(['Good', 'Bad']);
    const goodR = recordFeatures(good.find((r) => r.good_leaf === 'r4')!);
    expect(goodR).toMatchObject({
      trainedActions: 4,
      trainedRejected: 2,
      trainedRepeatsOfFailure: 1,
      firstActionRepeatsError: false,
      errorVsBranch: null,
    });
  });

  it('places the judged error relative to the branch point', () => {
    const tree = craftingTree();
    judge(tree, { a1: 'bad' }); // the error inside the prefix both paths share: one step before they part
    const records = spliceTask(tree, { runId: 'r', rootPrefix, env: 'crafting' }, { seed: 1 }).revision;
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(recordFeatures(record).errorVsBranch).toBe(-1);
  });
});

describe('curation rules', () => {
  it('dedupe keeps one copy of each conversation, the smallest id, in input order', () => {
    const input = features();
    const kept = removeDuplicates(input);
    expect(new Set(kept.map((r) => r.contentKey)).size).toBe(kept.length);
    expect(kept.length).toBe(input.length - 2);
    expect(ids(removeDuplicates([...input].reverse()))).toEqual(ids(kept));
    const dupes = input.filter((r) => r.contentKey === kept[0]!.contentKey);
    expect(kept[0]!.id).toBe(dupes.map((r) => r.id).sort()[0]);
  });

  it('no-failure-loops drops every record that trains a repeat of a rejected action', () => {
    const kept = dropFailureLoops(features());
    expect(kept.every((r) => r.trainedRepeatsOfFailure === 0)).toBe(true);
    expect(kept.some((r) => r.goodLeaf === 'r4')).toBe(false);
    expect(kept.length).toBe(3);
  });

  it('no-error-repeat drops revision records that retake the judged error first', () => {
    const kept = dropErrorRepeats(features());
    expect(kept.map((r) => `${r.kind}:${r.goodLeaf}:${r.badLeaf}`).sort()).toEqual([
      'good:g3:null',
      'good:r4:null',
      'revision:g3:b3a',
      'revision:g3:b3b',
    ]);
  });

  it('shortest-partner keeps the partner with the fewest trained turns per bad path', () => {
    const kept = preferShortestPartners(features(), { perBadPath: 1 });
    const revisions = kept.filter((r) => r.kind === 'revision');
    expect(revisions.map((r) => `${r.goodLeaf}:${r.badLeaf}`).sort()).toEqual(['g3:b3a', 'g3:b3b']);
    expect(kept.filter((r) => r.kind === 'good')).toHaveLength(2);
    expect(preferShortestPartners(features(), { perBadPath: 2 })).toHaveLength(6);
  });

  it('cap-per-task is seeded, balanced over bad paths and independent of input order', () => {
    const input = features();
    const a = capPerTask(input, { maxPerTask: 2, seed: 7 });
    expect(a.filter((r) => r.kind === 'revision')).toHaveLength(2);
    // Round-robin over bad paths: the two revision records kept come from both bad paths.
    expect(new Set(a.filter((r) => r.kind === 'revision').map((r) => r.badLeaf)).size).toBe(2);
    expect(ids(capPerTask([...input].reverse(), { maxPerTask: 2, seed: 7 }))).toEqual(ids(a));
    const picks = new Set<string>();
    for (let seed = 0; seed < 20; seed++) picks.add(ids(capPerTask(input, { maxPerTask: 1, seed })).join());
    expect(picks.size).toBeGreaterThan(1);
    expect(capPerTask(input, { maxPerTask: 100, seed: 0 })).toHaveLength(input.length);
  });
});

describe('presets', () => {
  it('reference keeps everything', () => {
    const input = features();
    expect(curate(input, 'reference')).toEqual({ kept: input, steps: [] });
  });

  it('clean leaves no duplicate, no failure loop, no error repeat, and reports each rule', () => {
    const { kept, steps } = curate(features(), 'clean');
    const input = features();
    const g3Revisions = input
      .filter((r) => r.kind === 'revision' && r.goodLeaf === 'g3')
      .map((r) => r.id)
      .sort();
    const g3Good = input.find((r) => r.kind === 'good' && r.goodLeaf === 'g3')!.id;
    expect(ids(kept)).toEqual([g3Good, g3Revisions[0]!].sort());
    expect(new Set(kept.map((r) => r.contentKey)).size).toBe(kept.length);
    expect(kept.every((r) => r.trainedRepeatsOfFailure === 0 && !r.firstActionRepeatsError)).toBe(true);
    expect(steps.map((s) => [s.rule, s.before, s.after])).toEqual([
      ['dedupe', 6, 4],
      ['no-failure-loops', 4, 2],
      ['no-error-repeat', 2, 2],
      ['shortest-partner', 2, 2],
      ['cap-per-task', 2, 2],
    ]);
  });
});
