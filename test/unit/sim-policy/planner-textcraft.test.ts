import { describe, expect, it } from 'vitest';
import { createCraftingSession } from '../../../shared/env/crafting/engine';
import { parseAction } from '../../../shared/inference/parse-action';
import { instructionFor } from '../../../shared/prompts/instructions';
import { buildPolicyMessages, type PolicyStep } from '../../../shared/prompts/policy-messages';
import { complete, type PolicyConfig } from '../../../cli/sim-policy/policy';
import { hasRecipes, minecraftWorld, warnIfMissing } from '../crafting/shared-data';

warnIfMissing(hasRecipes, 'sim-policy planner on the TextCraft (Minecraft 1.16.5) world');

const perfect: PolicyConfig = { errorRate: 0, errorRateAtZero: 0, mistakes: [], judgeAccuracy: 1 };

describe.skipIf(!hasRecipes)('sim-policy planner on real TextCraft observations', () => {
  it('solves every one of the 544 goals at error rate 0 without a failed action', async () => {
    const world = minecraftWorld();
    const session = createCraftingSession(world);
    const problems: string[] = [];
    for (let task = 0; task < world.goals.length; task++) {
      const first = await session.reset(task);
      const steps: PolicyStep[] = [];
      let solved = false;
      for (let i = 0; i < 60 && !solved; i++) {
        const messages = buildPolicyMessages({
          preset: 'agentgym',
          instruction: instructionFor('textcraft'),
          firstObservation: first.observation,
          steps,
        });
        const response = complete(messages, 0, i, 0, perfect).text;
        const result = await session.step(parseAction(response));
        steps.push({ response, observation: result.observation });
        solved = result.reward >= 1;
      }
      const failed = steps.filter((s) => /^(Could not|Wrong item format)/.test(s.observation));
      if (!solved || failed.length > 0) {
        problems.push(
          `${task} ${world.goals[task]}: ${solved ? 'solved' : 'unsolved'}, ${failed.length} failed actions`,
        );
      }
    }
    expect(problems).toEqual([]);
  });
});
