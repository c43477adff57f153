import { describe, expect, it } from 'vitest';
import { simPromptTokens } from '../../../cli/sim-policy/tokenizer';
import { runSpecSchema } from '../../../shared/contracts/run-spec';
import type { TreeFile } from '../../../shared/contracts/tree-file';
import { recoveryStarts } from '../../../shared/eval/recovery';
import { estimatePromptTokens } from '../../../shared/inference/server-info';
import { smallestFittingDrop } from '../../../shared/prompts/fit-prompt';
import { judgeTemplateProblem } from '../../../shared/prompts/judge-template';
import { parseVerifierPrompt, verifierPrompt } from '../../../shared/prompts/verifier';
import { observationForRun, policyPromptForRun } from '../../../shared/run-conversation';
import { chain } from '../eval/chain';

const spec = runSpecSchema.parse({ tasks: [0] });
const steps = Array.from({ length: 12 }, (_, i) => ({
  response: `Thought: step ${i} needs item ${i * 7919} of 0x${(i * 2654435761).toString(16)}.\nAction: get ${i} planks`,
  action: `get ${i} planks`,
  observation: `Got ${i} planks; inventory: [planks] (${i}), [stick] (${i * 3}), id#${i * 104729}`,
}));
const path = [
  {
    response: '',
    action: '',
    observation: 'Crafting commands:\ncraft 1 stick using 2 planks\nGoal: craft stick.',
  },
  ...steps,
];
const count = async (messages: { content: string }[]) => simPromptTokens(messages);

describe('fitting a prompt to a budget', () => {
  it('drops the oldest steps after the first action, keeps the first and the latest', async () => {
    const prompt = policyPromptForRun(spec, path);
    const full = await count(prompt.build(0));
    const fitted = await smallestFittingDrop(prompt, full - 100, count);
    expect(fitted.fits).toBe(true);
    expect(fitted.tokens).toBeLessThanOrEqual(full - 100);
    // The smallest drop: one fewer would not fit.
    expect(await count(prompt.build(fitted.drop - 1))).toBeGreaterThan(full - 100);
    const texts = fitted.messages.map((m) => m.content);
    expect(texts).toContain(steps[0]!.response);
    expect(texts).toContain(steps[11]!.observation);
    expect(texts).not.toContain(steps[1]!.response);
  });

  it('asks an expensive counter twice when a local count predicts the shrink', async () => {
    const prompt = policyPromptForRun(spec, path);
    const full = await count(prompt.build(0));
    const calls = { exact: 0 };
    const exact = async (messages: { content: string }[]) => {
      calls.exact += 1;
      return simPromptTokens(messages);
    };
    for (const budget of [full - 40, full - 100, full - 200, Math.round(full * 0.6)]) {
      calls.exact = 0;
      const searched = await smallestFittingDrop(prompt, budget, exact);
      const searchCalls = calls.exact;
      calls.exact = 0;
      // The 4-characters estimate: a different scale than the exact count, but the same shape.
      const predicted = await smallestFittingDrop(prompt, budget, exact, 0, estimatePromptTokens);
      expect(predicted.fits).toBe(true);
      expect(predicted.tokens).toBeLessThanOrEqual(budget);
      expect(predicted.tokens).toBe(simPromptTokens(predicted.messages));
      // At most a step more than the minimum, for fewer exact counts than the binary search.
      expect(predicted.drop - searched.drop).toBeGreaterThanOrEqual(0);
      expect(predicted.drop - searched.drop).toBeLessThanOrEqual(1);
      expect(calls.exact).toBeLessThanOrEqual(3);
      expect(calls.exact).toBeLessThan(searchCalls);
    }
  });

  it('drops the first action too before giving up, and says when even that is too long', async () => {
    const prompt = policyPromptForRun(spec, path);
    const minimal = prompt.build(prompt.maxDrop);
    expect(minimal.map((m) => m.content)).not.toContain(steps[0]!.response);
    expect(minimal.map((m) => m.content)).toContain(steps[11]!.response);
    const tight = await smallestFittingDrop(prompt, await count(minimal), count);
    expect(tight).toMatchObject({ fits: true, drop: prompt.maxDrop });
    const impossible = await smallestFittingDrop(prompt, (await count(minimal)) - 1, count);
    expect(impossible).toMatchObject({ fits: false, drop: prompt.maxDrop });
  });

  it('truncates the judge history oldest first, keeping the task and the judged step', async () => {
    const input = {
      taskDescription: 'Goal: craft stick.',
      history: steps.slice(0, 11).map(({ action, observation }) => ({ action, observation })),
      current: { action: steps[11]!.action, observation: steps[11]!.observation },
    };
    const prompt = verifierPrompt(input);
    const full = await count(prompt.build(0));
    const fitted = await smallestFittingDrop(prompt, full - 60, count);
    expect(fitted.fits).toBe(true);
    const parsed = parseVerifierPrompt(fitted.messages[0]!.content)!;
    expect(parsed.taskDescription).toBe(input.taskDescription);
    expect(parsed.current).toEqual(input.current);
    expect(parsed.history).toEqual(input.history.slice(fitted.drop));
    expect(fitted.messages[0]!.content).toContain(`(${fitted.drop} earlier step`);
  });

  it("fills a user's judge template", () => {
    const template =
      'Task: {task}\nSo far:\n{history}\nNow: {action} -> {observation}\nJudgment: Good|Bad|Uncertain?';
    const text = verifierPrompt(
      { taskDescription: 'T {action}', history: [], current: { action: 'A', observation: 'O' } },
      template,
    ).build(0)[0]!.content;
    // Filled text is never re-read: "{action}" inside the task stays as written.
    expect(text).toBe(
      'Task: T {action}\nSo far:\n(none: this is the first step)\nNow: A -> O\nJudgment: Good|Bad|Uncertain?',
    );
  });
});

describe('run-spec choices of the reference', () => {
  it('validates judge templates at run creation', () => {
    expect(judgeTemplateProblem('{task} {history} {action} {observation}')).toBe(null);
    expect(judgeTemplateProblem('{task} {action} {observation}')).toMatch(/lacks \{history\}/);
    expect(judgeTemplateProblem('{task} {history} {action} {observation} {reward}')).toMatch(
      /unknown placeholder \{reward\}/,
    );
    const bad = runSpecSchema.safeParse({ tasks: [0], judgePrompt: 'judge {action}' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['judgePrompt'] });
    expect(runSpecSchema.parse({ tasks: [0] })).toMatchObject({
      judgeSampling: 'per-node',
      cleanObservations: false,
    });
  });

  it('cleans observations like the reference MCTS when asked', () => {
    expect(observationForRun({ cleanObservations: true }, 'a\nb\tc')).toBe('a b c');
    expect(observationForRun({ cleanObservations: false }, 'a\nb\tc')).toBe('a\nb\tc');
  });

  it('counts a trajectory as failed for the recovery test at reward 0 by default', () => {
    const partial: TreeFile = chain(1, ['x', 'y', 'z'], 0.4);
    expect(recoveryStarts([partial], { cutSeed: 0 })).toEqual([]);
    expect(recoveryStarts([partial], { cutSeed: 0, maxFailedReward: 0.5 })).toHaveLength(1);
    expect(recoveryStarts([chain(2, ['x', 'y', 'z'], 0)], { cutSeed: 0 })).toHaveLength(1);
  });
});
