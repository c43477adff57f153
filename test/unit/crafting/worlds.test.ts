import { describe, expect, it } from 'vitest';
import { CraftingEngine } from '../../../shared/env/crafting/engine';
import { solveGoal } from '../../../shared/env/crafting/solver';
import type { World } from '../../../shared/env/crafting/world';
import { goalDepthCounts, ingredientName, worldSchema } from '../../../shared/env/crafting/world';
import { buildWorld } from '../../../shared/env/crafting/world-builder';
import { parseRecipeTable } from '../../../shared/env/crafting/recipe-table';
import { recipeTree } from '../../../shared/env/crafting/commands';
import { recipeLine } from '../../../shared/env/crafting/names';
import { buildWorldIndex } from '../../../shared/env/crafting/world-index';
import { builtInWorlds, getBuiltInWorld } from '../../../shared/worlds';
import { defaultWorld } from '../../../shared/worlds/default';
import { defaultRecipeTable } from '../../../shared/worlds/default-recipes';
import { hasRecipes, minecraftWorld, warnIfMissing } from './shared-data';

/** Plays the solver's plan for every goal and checks the last step, only the last, wins. */
function expectEveryGoalSolvable(world: World): number {
  let longest = 0;
  world.goals.forEach((goal, task) => {
    const plan = solveGoal(world, goal);
    longest = Math.max(longest, plan.length);
    const engine = new CraftingEngine(world);
    engine.reset(task);
    const results = plan.map((action) => engine.step(action));
    for (const [i, result] of results.entries()) {
      expect(result.observation, `${goal}: ${plan[i]}`).toMatch(/^(Got|Crafted) /);
      expect(result.reward).toBe(i === results.length - 1 ? 1 : 0);
    }
  });
  return longest;
}

describe('the default world', () => {
  it('is registered as a built-in world', () => {
    expect(getBuiltInWorld('default')).toBe(defaultWorld);
    expect(getBuiltInWorld('nope')).toBeUndefined();
    expect(getBuiltInWorld('toString')).toBeUndefined();
    expect(Object.keys(builtInWorlds)).toEqual(['default']);
  });

  it('has 150-300 recipes, tags with several members, base items and depths 1..4', () => {
    expect(worldSchema.parse(JSON.parse(JSON.stringify(defaultWorld)))).toEqual(defaultWorld);
    expect(defaultWorld.recipes.length).toBeGreaterThanOrEqual(150);
    expect(defaultWorld.recipes.length).toBeLessThanOrEqual(300);
    expect(defaultWorld.baseItems.length).toBeGreaterThanOrEqual(20);
    const depths = goalDepthCounts(defaultWorld);
    expect(Object.keys(depths).map(Number).sort()).toEqual([1, 2, 3, 4]);
    for (const count of Object.values(depths)) expect(count).toBeGreaterThanOrEqual(20);
    const tagSizes = Object.values(defaultWorld.tags).map((members) => members.length);
    expect(tagSizes.length).toBeGreaterThanOrEqual(8);
    for (const size of tagSizes) expect(size).toBeGreaterThanOrEqual(3);
    expect(defaultWorld.tags['workshop:timber']).toEqual([
      'workshop:ash_timber',
      'workshop:elm_timber',
      'workshop:oak_timber',
      'workshop:pine_timber',
      'workshop:walnut_timber',
    ]);
  });

  it('is built from its whole table: no recipe pruned, no tag turned into an item', () => {
    const { world, pruned } = buildWorld({
      name: 'default',
      namespace: 'workshop',
      recipes: parseRecipeTable(defaultRecipeTable, 'workshop'),
    });
    expect(pruned).toEqual([]);
    expect(world.recipes.length).toBe(defaultRecipeTable.length);
    const tagInputs = world.recipes.flatMap((r) => r.inputs).filter((input) => 'tag' in input);
    expect(tagInputs.length).toBeGreaterThan(20);
  });

  it('uses many items in several recipes, so tasks get distractors', () => {
    const uses = new Map<string, number>();
    for (const recipe of defaultWorld.recipes)
      for (const input of recipe.inputs)
        uses.set(ingredientName(input), (uses.get(ingredientName(input)) ?? 0) + 1);
    expect([...uses.values()].filter((n) => n >= 3).length).toBeGreaterThan(20);
    const engine = new CraftingEngine(defaultWorld);
    const index = buildWorldIndex(defaultWorld);
    const distractorCounts = defaultWorld.goals.map((goal, task) => {
      engine.reset(task);
      const tree = new Set(recipeTree(index, goal).map((r) => recipeLine(r, defaultWorld.namespace)));
      for (const line of tree) expect(engine.commandLines).toContain(line);
      return engine.commandLines.filter((line) => !tree.has(line)).length;
    });
    expect(Math.max(...distractorCounts)).toBe(10);
    expect(distractorCounts.filter((n) => n >= 3).length).toBeGreaterThan(defaultWorld.goals.length * 0.8);
  });

  it('every goal is solved by the solver plan, rewarded exactly on the last step', () => {
    expect(expectEveryGoalSolvable(defaultWorld)).toBeLessThan(60);
  });

  it('observations name items without the namespace', () => {
    const engine = new CraftingEngine(defaultWorld);
    const first = engine.resetToGoal('oak chest').observation;
    expect(first).toContain('craft 4 oak timber using 1 oak log');
    expect(first).toContain('craft 1 oak chest using 8 oak timber, 2 brass hinge');
    expect(first).not.toContain('workshop:');
    expect(first.endsWith('\n\nGoal: craft oak chest.')).toBe(true);
  });

  it('the first observation depends only on world, task and seed', () => {
    const a = new CraftingEngine(defaultWorld, { seed: 5 });
    const b = new CraftingEngine(defaultWorld, { seed: 5 });
    const c = new CraftingEngine(defaultWorld, { seed: 6 });
    const task = defaultWorld.goals.indexOf('workshop:lantern');
    const first = a.reset(task).observation;
    a.step('get 1 coal');
    expect(a.reset(task).observation).toBe(first);
    expect(b.reset(task).observation).toBe(first);
    expect(c.reset(task).observation).not.toBe(first);
    expect(new Set(c.commandLines)).not.toEqual(new Set());
  });
});

warnIfMissing(hasRecipes, 'solver check on the Minecraft world');
describe.skipIf(!hasRecipes)('the solver on the imported Minecraft world', () => {
  it('solves all 544 TextCraft goals', () => {
    expect(expectEveryGoalSolvable(minecraftWorld())).toBeGreaterThan(5);
  });

  it('names tag ingredients by a concrete member', () => {
    const plan = solveGoal(minecraftWorld(), 'minecraft:crafting_table');
    expect(plan).toEqual([
      'get 1 acacia logs',
      'craft 4 acacia planks using 1 acacia logs',
      'craft 1 crafting table using 4 acacia planks',
    ]);
  });
});
