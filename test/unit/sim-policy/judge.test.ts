import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random';
import { parseJudgement, type VerifierInput } from '../../../shared/prompts/verifier';
import { assessStep, judgeResponse } from '../../../cli/sim-policy/judge';

const task =
  'Crafting commands:\ncraft 4 oak planks using 1 oak logs\ncraft 4 stick using 2 planks\ncraft 1 bowl using 3 planks\ncraft 1 bread using 3 wheat\n\nGoal: craft stick.';

function step(action: string, observation: string, history: VerifierInput['history'] = []): VerifierInput {
  return { taskDescription: task, history, current: { action, observation } };
}

describe('sim-policy judge: ground truth', () => {
  it('calls failed actions bad', () => {
    expect(assessStep(step('get 2 planks', 'Could not find planks')).truth).toBe('bad');
    expect(
      assessStep(step('craft 4 stick using 2 planks', 'Could not find enough items to craft minecraft:stick'))
        .truth,
    ).toBe('bad');
  });

  it('calls irrelevant actions bad and useful ones good', () => {
    expect(assessStep(step('get 3 wheat', 'Got 3 wheat')).truth).toBe('bad');
    expect(assessStep(step('get 1 oak logs', 'Got 1 oak logs')).truth).toBe('good');
    expect(
      assessStep(step('craft 4 oak planks using 1 oak logs', 'Crafted 4 minecraft:oak_planks')).truth,
    ).toBe('good');
    expect(assessStep(step('craft 4 stick using 2 oak planks', 'Crafted 4 minecraft:stick')).truth).toBe(
      'good',
    );
  });

  it('calls a repeated no-progress step bad and an inventory check uncertain', () => {
    const inventory = 'Inventory: [oak logs] (1) ';
    expect(assessStep(step('inventory', inventory)).truth).toBe('uncertain');
    expect(
      assessStep(step('inventory', inventory, [{ action: 'inventory', observation: inventory }])).truth,
    ).toBe('bad');
  });
});

describe('sim-policy judge: answers', () => {
  it('ends with a parseable label that is right at accuracy 1', () => {
    const input = step('get 3 wheat', 'Got 3 wheat');
    const answer = judgeResponse(input, { accuracy: 1, random: createRng(1).next });
    expect(answer.said).toBe('bad');
    expect(parseJudgement(answer.text)).toBe('bad');
    expect(answer.text).toMatch(/not needed to craft stick/);
  });

  it('is right about as often as its accuracy', () => {
    const input = step('get 1 oak logs', 'Got 1 oak logs');
    const random = createRng(42).next;
    let right = 0;
    for (let i = 0; i < 1000; i++) {
      if (parseJudgement(judgeResponse(input, { accuracy: 0.9, random }).text) === 'good') right += 1;
    }
    expect(right).toBeGreaterThan(850);
    expect(right).toBeLessThan(950);
  });
});
