import { describe, expect, it } from 'vitest';
import { CraftingEngine } from '../../../shared/env/crafting/engine';
import { recipeLine } from '../../../shared/env/crafting/names';
import { recipeTree } from '../../../shared/env/crafting/commands';
import { buildWorldIndex } from '../../../shared/env/crafting/world-index';
import { ingredientName } from '../../../shared/env/crafting/world';
import { hasTranscripts, minecraftWorld, readTranscripts, warnIfMissing } from './shared-data';

warnIfMissing(hasTranscripts, 'golden TextCraft transcript tests');

describe.skipIf(!hasTranscripts)('crafting engine against real TextCraft server transcripts', () => {
  const transcripts = hasTranscripts ? readTranscripts() : [];

  it('has transcripts to check', () => {
    expect(transcripts.length).toBeGreaterThan(40);
  });

  it.each(transcripts.map((t) => [t.data_idx, t.goal, t] as const))(
    'task %i (%s): every step matches',
    (_i, goal, transcript) => {
      const engine = new CraftingEngine(minecraftWorld());
      const reset = engine.resetToGoal(goal);
      expect(reset).toEqual({
        observation: expect.stringMatching(/^Crafting commands:\n/),
        reward: 0,
        done: false,
      });
      expect(reset.observation.endsWith(`\n\nGoal: craft ${goal}.`)).toBe(true);
      for (const step of transcript.steps) {
        expect({ action: step.action, ...engine.step(step.action) }).toEqual(step);
      }
    },
  );

  it.each(transcripts.map((t) => [t.data_idx, t.goal, t] as const))(
    'task %i (%s): the command lines are the recipe tree plus distractors',
    (_i, goal, transcript) => {
      const world = minecraftWorld();
      const index = buildWorldIndex(world);
      const engine = new CraftingEngine(world);
      const ours = engine.resetToGoal(goal).observation;
      const [head, goalLine] = transcript.initial_observation.split('\n\n');
      expect(goalLine).toBe(`Goal: craft ${goal}.`);
      const serverLines = (head ?? '').split('\n').slice(1);
      const tree = recipeTree(index, engine.goal as string);
      const treeLines = new Set(tree.map((r) => recipeLine(r, world.namespace)));
      // Distractors: recipes that use an input of the tree.
      const pool = new Set(
        tree
          .flatMap((r) => r.inputs.flatMap((input) => index.usesByName.get(ingredientName(input)) ?? []))
          .map((r) => recipeLine(r, world.namespace)),
      );
      for (const line of treeLines) expect(serverLines).toContain(line);
      const serverDistractors = serverLines.filter((line) => !treeLines.has(line));
      expect(serverDistractors.length).toBeLessThanOrEqual(10);
      for (const line of serverDistractors) expect(pool).toContain(line);
      expect(new Set(serverLines).size).toBe(serverLines.length);

      const ourLines = ours.split('\n\n')[0]?.split('\n').slice(1) ?? [];
      for (const line of treeLines) expect(ourLines).toContain(line);
      const ourDistractors = ourLines.filter((line) => !treeLines.has(line));
      // The server's count varies with its history (its recipe lists grow across resets), so only bounds.
      expect(ourDistractors.length).toBeLessThanOrEqual(10);
      if (serverDistractors.length > 0) expect(ourDistractors.length).toBeGreaterThan(0);
      for (const line of ourDistractors) expect(pool).toContain(line);
    },
  );
});
