import { describe, expect, it } from 'vitest';
import {
  instructionFor,
  TEXTCRAFT_INSTRUCTION,
  WEBSHOP_INSTRUCTION,
} from '../../../shared/prompts/instructions';
import { buildPolicyMessages, type PolicyStep } from '../../../shared/prompts/policy-messages';
import { buildRootPrefix } from '../../../shared/prompts/presets';

const firstObservation = 'Crafting commands:\ncraft 4 stick using 2 planks\n\nGoal: craft stick.';

function steps(count: number, size = 40): PolicyStep[] {
  return Array.from({ length: count }, (_, i) => ({
    response: `Thought: step ${i}\nAction: get ${i} x${'y'.repeat(size)}`,
    observation: `Got ${i} x${'y'.repeat(size)}`,
  }));
}

describe('instructions', () => {
  it('crafting plays with the TextCraft instruction text', () => {
    expect(instructionFor('crafting')).toBe(TEXTCRAFT_INSTRUCTION);
    expect(TEXTCRAFT_INSTRUCTION).toContain('"craft [target object] using [input ingredients]"');
    expect(instructionFor('webshop')).toBe(WEBSHOP_INSTRUCTION);
    expect(instructionFor('sciworld')).toContain('You are an agent for science world.');
  });
});

describe('conversation presets', () => {
  it('agent-r: system turn and "Ok."', () => {
    expect(buildRootPrefix({ preset: 'agent-r', instruction: 'I', firstObservation: 'O' })).toEqual([
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'I' },
      { role: 'assistant', content: 'Ok.' },
      { role: 'user', content: 'O' },
    ]);
  });

  it('agentgym: no system turn, AgentGym acknowledgement', () => {
    expect(buildRootPrefix({ preset: 'agentgym', instruction: 'I', firstObservation: 'O' })).toEqual([
      { role: 'user', content: 'I' },
      { role: 'assistant', content: "OK. I'll follow your instructions and try my best to solve the task." },
      { role: 'user', content: 'O' },
    ]);
  });
});

describe('buildPolicyMessages', () => {
  it('alternates responses and observations after the root prefix', () => {
    const messages = buildPolicyMessages({
      preset: 'agent-r',
      instruction: 'I',
      firstObservation,
      steps: steps(2),
    });
    expect(messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    expect(messages[4]?.content).toContain('step 0');
    expect(messages[7]?.content).toContain('Got 1');
  });

  it('keeps everything when under budget', () => {
    const all = buildPolicyMessages({
      preset: 'agentgym',
      instruction: 'I',
      firstObservation,
      steps: steps(5),
    });
    const budgeted = buildPolicyMessages({
      preset: 'agentgym',
      instruction: 'I',
      firstObservation,
      steps: steps(5),
      contextBudgetTokens: 100_000,
    });
    expect(budgeted).toEqual(all);
  });

  it('drops the oldest whole steps after the first action when over budget', () => {
    const countTokens = (text: string) => text.length;
    const input = {
      preset: 'agentgym' as const,
      instruction: 'I',
      firstObservation,
      steps: steps(10),
      countTokens,
    };
    const full = buildPolicyMessages(input);
    const fullTokens = full.reduce((sum, m) => sum + m.content.length + 4, 0);
    const stepTokens = steps(1)[0]!.response.length + steps(1)[0]!.observation.length + 8;
    const trimmed = buildPolicyMessages({ ...input, contextBudgetTokens: fullTokens - 3 * stepTokens });
    const contents = trimmed.map((m) => m.content);
    // Steps 1, 2, 3 (oldest after the first) are gone, each with its observation.
    expect(trimmed.length).toBe(full.length - 6);
    expect(contents.some((c) => c.includes('step 0'))).toBe(true);
    for (const gone of [1, 2, 3]) expect(contents.some((c) => c.includes(`step ${gone}\n`))).toBe(false);
    expect(contents.some((c) => c.includes('step 4'))).toBe(true);
    // Alignment: every assistant turn is followed by the observation of the same step.
    for (let i = 3; i < trimmed.length; i += 2) {
      const step = /step (\d+)/.exec(trimmed[i]!.content)![1];
      expect(trimmed[i]!.role).toBe('assistant');
      expect(trimmed[i + 1]).toEqual({
        role: 'user',
        content: expect.stringMatching(new RegExp(`^Got ${step} `)),
      });
    }
  });

  it('never drops the first or the latest step, even if still over budget', () => {
    const trimmed = buildPolicyMessages({
      preset: 'agent-r',
      instruction: 'I',
      firstObservation,
      steps: steps(6),
      contextBudgetTokens: 1,
    });
    expect(trimmed.length).toBe(4 + 4);
    expect(trimmed[4]?.content).toContain('step 0');
    expect(trimmed[6]?.content).toContain('step 5');
  });
});
