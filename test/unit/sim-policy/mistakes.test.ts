import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random';
import { parseCraftingTask, type TakenStep } from '../../../cli/sim-policy/crafting-text';
import { allMistakeKinds, makeMistake, type MistakeKind } from '../../../cli/sim-policy/mistakes';
import { makePlan, planNextStep } from '../../../cli/sim-policy/planner';
import { chooseMove } from '../../../cli/sim-policy/crafting-policy';

const observation = [
  'Crafting commands:',
  'craft 4 stick using 2 planks',
  'craft 4 oak planks using 1 oak logs',
  'craft 4 birch planks using 1 birch logs',
  'craft 1 acacia fence gate using 4 stick, 2 acacia planks',
  'craft 4 acacia planks using 1 acacia logs',
  'craft 1 bread using 3 wheat',
  '',
  'Goal: craft acacia fence gate.',
].join('\n');
const task = parseCraftingTask(observation)!;

function mistake(kind: MistakeKind, steps: TakenStep[] = [], seed = 1) {
  const plan = makePlan(task);
  const step = planNextStep(plan, task.goal, new Map());
  const random = createRng(seed).next;
  return makeMistake(kind, { task, plan, step, steps, random, wording: () => 0 });
}

describe('the expert plan', () => {
  it('gathers first, then crafts, sharing one member for the generic ingredient', () => {
    const plan = makePlan(task);
    expect(plan.members.get('planks')).toBe('acacia planks');
    expect(planNextStep(plan, task.goal, new Map())?.action).toBe('get 1 acacia logs');
    expect(planNextStep(plan, task.goal, new Map([['acacia logs', 1]]))?.action).toBe(
      'craft 4 acacia planks using 1 acacia logs',
    );
    expect(planNextStep(plan, task.goal, new Map([['acacia planks', 4]]))?.action).toBe(
      'craft 4 stick using 2 acacia planks',
    );
    expect(
      planNextStep(
        plan,
        task.goal,
        new Map([
          ['acacia planks', 2],
          ['stick', 4],
        ]),
      )?.action,
    ).toBe('craft 1 acacia fence gate using 4 stick, 2 acacia planks');
  });
});

describe('mistakes', () => {
  it('every kind produces a realistic wrong action here', () => {
    const previous = [{ action: 'get 2 planks', observation: 'Could not find planks' }];
    const actions = Object.fromEntries(allMistakeKinds.map((k) => [k, mistake(k, previous)?.action]));
    expect(actions['wrong-count']).toMatch(/^get 2 acacia logs$/);
    expect(actions['generic-tag']).toBe('get 2 planks');
    expect(actions['craft-before-gather']).toMatch(
      /^craft 4 acacia planks using 1 acacia logs$|^craft 1 acacia fence gate/,
    );
    expect(actions['fetch-craftable']).toMatch(/^get \d+ (stick|acacia planks|acacia fence gate)$/);
    expect(actions['irrelevant-recipe']).toMatch(/bread|wheat/);
    expect(actions.repeat).toBe('get 2 planks');
  });

  it('does nothing at error rate 0 and errs at a high rate', () => {
    const conversation = { task, taskText: observation, steps: [] };
    const correct = chooseMove(conversation, {
      errorRate: 0,
      random: createRng(3).next,
      wording: () => 0,
    });
    expect(correct).toMatchObject({ action: 'get 1 acacia logs' });
    expect(correct.mistake).toBeUndefined();
    const random = createRng(4).next;
    let wrong = 0;
    for (let i = 0; i < 200; i++)
      if (chooseMove(conversation, { errorRate: 0.5, random, wording: random }).mistake) wrong++;
    expect(wrong).toBeGreaterThan(60);
    expect(wrong).toBeLessThan(140);
  });

  it('tends to stay stuck once it repeats a failing action', () => {
    const stuck = {
      task,
      taskText: observation,
      steps: [
        { action: 'get 2 planks', observation: 'Could not find planks' },
        { action: 'get 2 planks', observation: 'Could not find planks' },
      ],
    };
    const random = createRng(5).next;
    let repeats = 0;
    for (let i = 0; i < 100; i++) {
      if (chooseMove(stuck, { errorRate: 0.3, random, wording: random }).action === 'get 2 planks') repeats++;
    }
    expect(repeats).toBeGreaterThan(60);
  });
});
