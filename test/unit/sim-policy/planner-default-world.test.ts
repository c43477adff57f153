import { describe, expect, it } from 'vitest';
import { createCraftingSession } from '../../../shared/env/crafting/engine';
import { parseAction } from '../../../shared/inference/parse-action';
import { instructionFor } from '../../../shared/prompts/instructions';
import { buildPolicyMessages, type PolicyStep } from '../../../shared/prompts/policy-messages';
import { defaultWorld } from '../../../shared/worlds/default';
import { allMistakeKinds } from '../../../cli/sim-policy/mistakes';
import { complete, type PolicyConfig } from '../../../cli/sim-policy/policy';

const perfect: PolicyConfig = { errorRate: 0, errorRateAtZero: 0, mistakes: [], judgeAccuracy: 1 };
const MAX_STEPS = 60;

/** Plays one goal with the planner (called directly, no HTTP); returns steps used or null. */
async function play(task: number, config: PolicyConfig, temperature: number, seed: number) {
  const session = createCraftingSession(defaultWorld, { seed: 42 });
  const first = await session.reset(task);
  const steps: PolicyStep[] = [];
  for (let i = 0; i < MAX_STEPS; i++) {
    const messages = buildPolicyMessages({
      preset: 'agent-r',
      instruction: instructionFor('crafting'),
      firstObservation: first.observation,
      steps,
    });
    const response = complete(messages, temperature, seed + i, 0, config).text;
    const result = await session.step(parseAction(response));
    steps.push({ response, observation: result.observation });
    if (result.reward >= 1) return { steps };
  }
  return { steps: null, transcript: steps };
}

describe('sim-policy planner on the default world', () => {
  it('solves every goal at error rate 0', async () => {
    const failures: string[] = [];
    for (let task = 0; task < defaultWorld.goals.length; task++) {
      const outcome = await play(task, perfect, 0, 7);
      if (outcome.steps === null) {
        const tail = outcome.transcript
          .slice(-4)
          .map((s) => `${parseAction(s.response)} -> ${s.observation}`);
        failures.push(`goal ${task} (${defaultWorld.goals[task]}): ${tail.join(' | ')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('makes mistakes at temperature 1 but still often succeeds', async () => {
    const noisy: PolicyConfig = { ...perfect, errorRate: 0.3, mistakes: allMistakeKinds };
    const tasks = Array.from({ length: Math.min(20, defaultWorld.goals.length) }, (_, i) => i);
    let solved = 0;
    let failedActions = 0;
    for (const task of tasks) {
      const outcome = await play(task, noisy, 1, 1000 + task);
      const steps = outcome.steps ?? outcome.transcript ?? [];
      if (outcome.steps) solved += 1;
      failedActions += steps.filter((s) => /^(Could not|Wrong item format)/.test(s.observation)).length;
    }
    expect(failedActions).toBeGreaterThan(0);
    expect(solved).toBeGreaterThan(tasks.length / 2);
  });
});
