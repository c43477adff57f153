import { describe, expect, it } from 'vitest';
import {
  buildVerifierMessages,
  buildVerifierPrompt,
  parseJudgement,
  parseVerifierPrompt,
  type VerifierInput,
} from '../../../shared/prompts/verifier';

const input: VerifierInput = {
  taskDescription:
    'Crafting commands:\ncraft 4 stick using 2 planks\ncraft 4 oak planks using 1 oak logs\n\nGoal: craft stick.',
  history: [
    { action: 'get 1 oak logs', observation: 'Got 1 oak logs' },
    { action: 'inventory', observation: 'Inventory: [oak logs] (1) ' },
  ],
  current: {
    action: 'craft 4 stick using 2 planks',
    observation: 'Could not find enough items to craft minecraft:stick',
  },
};

describe('verifier prompt', () => {
  it('contains the task, the log, the current step and the answer format', () => {
    const prompt = buildVerifierPrompt(input);
    expect(prompt).toContain(input.taskDescription);
    expect(prompt).toContain('Action 1: get 1 oak logs\nObservation 1: Got 1 oak logs');
    expect(prompt).toContain('Action: craft 4 stick using 2 planks');
    expect(prompt).toMatch(/Judgment: <Good or Bad or Uncertain>$/);
    expect(buildVerifierMessages(input)).toEqual([{ role: 'user', content: prompt }]);
  });

  it('reads back into its parts (sim-policy relies on this)', () => {
    expect(parseVerifierPrompt(buildVerifierPrompt(input))).toEqual(input);
    const first = { ...input, history: [] };
    expect(parseVerifierPrompt(buildVerifierPrompt(first))).toEqual(first);
    const multiline = { ...input, history: [{ action: 'look', observation: 'line one\nline two' }] };
    expect(parseVerifierPrompt(buildVerifierPrompt(multiline))).toEqual(multiline);
    expect(parseVerifierPrompt('Crafting commands:\n...')).toBeNull();
  });
});

describe('parseJudgement', () => {
  it('accepts both spellings and common decorations', () => {
    expect(parseJudgement('reasons...\nJudgment: Good')).toBe('good');
    expect(parseJudgement('reasons...\nJudgement: bad')).toBe('bad');
    expect(parseJudgement('**Judgment:** Uncertain')).toBe('uncertain');
    expect(parseJudgement('judgement - "BAD".')).toBe('bad');
  });

  it('takes the final label', () => {
    expect(parseJudgement('The format is Judgment: <Good or Bad>. ... Judgment: Bad')).toBe('bad');
    expect(parseJudgement('Judgment: Bad\nOn reflection...\nJudgement: Good')).toBe('good');
  });

  it('treats anything unparseable as uncertain', () => {
    expect(parseJudgement('')).toBe('uncertain');
    expect(parseJudgement('This step was good.')).toBe('uncertain');
    expect(parseJudgement('Judgment: maybe')).toBe('uncertain');
  });
});
