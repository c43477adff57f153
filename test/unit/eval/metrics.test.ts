import { describe, expect, it } from 'vitest';
import {
  computeEvalMetrics,
  firstErrorOf,
  greedyTrajectory,
  isFailedObservation,
  isRevisionResponse,
  revisionMatcher,
} from '../../../shared/eval';
import { defaultRevisionSentences } from '../../../shared/revision/revision-sentences';
import { normaliseSciWorldScore } from '../../../shared/env/agentgym/sciworld-protocol';
import { chain, treesOf } from './chain';

describe('greedy trajectory of an eval tree', () => {
  it('follows the chain and takes the leaf reward', () => {
    const t = greedyTrajectory(chain(3, ['a', 'b', 'c'], 1));
    expect(t.steps.map((s) => s.action)).toEqual(['a', 'b', 'c']);
    expect(t.steps.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(t).toMatchObject({ task: 3, reward: 1, finished: true });
  });

  it('is unfinished when the last node failed to expand or is not terminal', () => {
    expect(greedyTrajectory(chain(1, ['a', 'b'], 0, { errorAtEnd: 'policy endpoint down' })).finished).toBe(
      false,
    );
    expect(greedyTrajectory(chain(1, ['a'], 0, { unfinished: true })).finished).toBe(false);
    expect(greedyTrajectory(chain(1, [], 0)).finished).toBe(false);
  });
});

describe('revision detection', () => {
  it('recognises every sentence of the revision pool, `Action: wait` and self-correction phrases', () => {
    for (const sentence of defaultRevisionSentences) {
      expect(isRevisionResponse(`Thought: ${sentence}\nAction: craft 1 stick`)).toBe(true);
    }
    expect(isRevisionResponse('Thought: hmm.\nAction: wait')).toBe(true);
    expect(
      isRevisionResponse(
        'Thought: I realize my approach was flawed. I need to revise it.\nAction: inventory',
      ),
    ).toBe(true);
    expect(isRevisionResponse('Thought: I made a mistake.\nAction: get 1 oak log')).toBe(true);
    expect(isRevisionResponse('Thought: Let me rethink this.\nAction: inventory')).toBe(true);
  });

  it('does not fire on ordinary steps', () => {
    for (const text of [
      'Thought: I need 2 planks.\nAction: craft 2 oak planks using 1 oak log',
      'Thought: wait for nothing, go on.\nAction: get 1 oak log',
      'Action: waiting room',
      '',
    ]) {
      expect(isRevisionResponse(text)).toBe(false);
    }
  });

  it("recognises a run's own sentences", () => {
    const custom = 'Oops, back to the drawing board.';
    expect(isRevisionResponse(`Thought: ${custom}\nAction: inventory`)).toBe(false);
    expect(revisionMatcher([custom])(`Thought: ${custom}\nAction: inventory`)).toBe(true);
  });
});

describe('first error', () => {
  it('is the first step judged bad when judgements exist', () => {
    const t = greedyTrajectory(
      chain(
        0,
        [
          { action: 'a', judgement: 'good' },
          { action: 'b', judgement: 'uncertain' },
          { action: 'c', judgement: 'bad', observation: 'Could not find c' },
          'd',
        ],
        0,
      ),
    );
    expect(firstErrorOf(t.steps)).toEqual({ step: 3, source: 'judgement' });
  });

  it('else the first step the environment refused', () => {
    const t = greedyTrajectory(
      chain(
        0,
        [
          'a',
          { action: 'b', observation: 'Could not find enough items to craft stick' },
          { action: 'c', observation: 'Could not execute c' },
        ],
        0,
      ),
    );
    expect(firstErrorOf(t.steps)).toEqual({ step: 2, source: 'observation' });
    expect(firstErrorOf(greedyTrajectory(chain(0, ['a', 'b'], 0)).steps)).toBeNull();
  });

  it('knows the failure wordings of the environments', () => {
    for (const text of [
      'Could not find a valid recipe for stick',
      'Wrong item format: x',
      'No known action matches that input.',
      'Invalid action!',
      'The id 5 is not valid.',
    ]) {
      expect(isFailedObservation(text)).toBe(true);
    }
    expect(isFailedObservation('Got 1 oak log')).toBe(false);
    expect(isFailedObservation('Crafted 1 minecraft:stick')).toBe(false);
  });
});

describe('eval metrics from hand-built trees', () => {
  const solved = chain(
    0,
    ['get 1 oak log', 'craft 4 oak planks using 1 oak log', 'craft 1 stick using 2 oak planks'],
    1,
  );
  const loop1 = chain(
    1,
    ['get 1 log', 'get 1 log', { action: 'craft x', observation: 'Could not find x' }],
    0,
  );
  const loop2 = chain(
    2,
    [
      { action: 'inventory', observation: 'Could not execute inventory' },
      'look',
      'inventory',
      'look',
      'craft y',
    ],
    0.5,
  );
  const loop3 = chain(3, ['a', 'b', 'c', 'a', 'b', 'c'], 0);
  const loop4 = chain(4, ['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd'], 0);
  const revising = chain(
    5,
    [
      { action: 'craft z', observation: 'Could not find z' },
      {
        action: 'wait',
        response: 'Thought: I realize my approach was flawed. I need to revise it.\nAction: wait',
      },
      'get 1 z',
    ],
    1,
  );
  const broken = chain(6, ['a'], 0, { errorAtEnd: 'endpoint down' });

  const metrics = computeEvalMetrics(
    [0, 1, 2, 3, 4, 5, 6, 7],
    treesOf(solved, loop1, loop2, loop3, loop4, revising, broken),
  );

  it('counts success (reward >= 1) and average reward over scored tasks only', () => {
    expect(metrics.tasks).toBe(8);
    expect(metrics.scored).toBe(6);
    expect(metrics.unscoredTasks).toEqual([6, 7]); // an infrastructure failure and a missing tree
    expect(metrics.successes).toBe(2);
    expect(metrics.successRate).toBeCloseTo(2 / 6);
    expect(metrics.averageReward).toBeCloseTo((1 + 0 + 0.5 + 0 + 0 + 1) / 6);
    expect(metrics.averageScore).toBe(41.67); // the same on the paper's 0-100 scale, 2 decimals
    expect(metrics.averageSteps).toBeCloseTo((3 + 3 + 5 + 6 + 8 + 3) / 6);
  });

  it("reports SciWorld on its own 0-100 scale (a failed episode's -100 counts 0, as in the reference)", () => {
    const reward = (score: number) => normaliseSciWorldScore('obs', score, true).reward;
    const sci = computeEvalMetrics(
      [1, 2],
      treesOf(chain(1, ['a'], reward(45)), chain(2, ['b'], reward(-100))),
    );
    expect(sci.averageScore).toBe(22.5);
  });

  it('finds loops of each length 1..4 and their share', () => {
    expect(metrics.loops.byLength).toEqual({ '1': 1, '2': 1, '3': 1, '4': 1 });
    expect(metrics.loops.trajectories).toBe(4);
    expect(metrics.loops.share).toBeCloseTo(4 / 6);
    expect(metrics.loops.occurrences).toBe(4);
    const perTask = Object.fromEntries(metrics.perTask.map((r) => [r.task, r.loopLengths]));
    expect(perTask).toMatchObject({ 0: [], 1: [1], 2: [2], 3: [3], 4: [4], 5: [] });
  });

  it('counts revising responses and trajectories', () => {
    expect(metrics.revisions.responses).toBe(1);
    expect(metrics.revisions.trajectories).toBe(1);
    expect(metrics.revisions.share).toBeCloseTo(1 / 6);
    expect(metrics.revisions.responseShare).toBeCloseTo(1 / 28);
  });

  it('averages the first error over failed trajectories where one is found', () => {
    // task 1: step 3; task 2: step 1; tasks 3 and 4 have none; solved tasks are not counted.
    expect(metrics.firstError).toEqual({ averageStep: 2, count: 2, fromJudgements: 0, fromObservations: 2 });
    expect(metrics.perTask.find((r) => r.task === 5)?.firstErrorStep).toBeNull();
  });

  it('has no recovery block without a recovery test, and empty rates without scored tasks', () => {
    expect(metrics.recovery).toBeNull();
    const empty = computeEvalMetrics([9], new Map());
    expect(empty).toMatchObject({ scored: 0, successRate: null, averageReward: null, unscoredTasks: [9] });
    expect(empty.averageScore).toBeNull();
    expect(empty.loops.share).toBeNull();
  });

  it('scores the recovery test from the continuation trees', () => {
    const withRecovery = computeEvalMetrics([0], treesOf(solved), {
      recovery: {
        tasks: [
          { task: 1, cutStep: 2 },
          { task: 2, cutStep: 1 },
          { task: 3, cutStep: 4 },
        ],
        trees: treesOf(chain(1, ['x'], 1), chain(2, ['y', 'z'], 0.3)),
      },
    });
    expect(withRecovery.recovery).toMatchObject({
      tasks: 3,
      scored: 2,
      successes: 1,
      successRate: 0.5,
      averageCutStep: 7 / 3,
    });
    expect(withRecovery.recovery?.averageReward).toBeCloseTo(0.65);
  });
});
