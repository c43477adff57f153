import type { Rng } from '../../random';
import type { Recipe } from './world';
import { ingredientName } from './world';
import type { WorldIndex } from './world-index';
import { recipeLine } from './names';

/**
 * The "Crafting commands" a task shows, built like TextCraft's reset: every recipe of the goal's
 * recipe tree, plus up to 10 distractors (recipes using the tree's inputs: up to 10 sampled per
 * input, then 10 of those), shuffled. AgentGym's exact line order comes from Python's RNG and
 * string hashing, so only the line set's construction is reproduced, with our seeded RNG.
 */

const DISTRACTORS_PER_INPUT = 10;
const MAX_DISTRACTORS = 10;

/** Every recipe needed to craft `name` from base items, each once, in depth-first order. */
export function recipeTree(index: WorldIndex, name: string): Recipe[] {
  const seen = new Set<string>();
  const tree: Recipe[] = [];
  const visit = (current: string): void => {
    if (seen.has(current)) return;
    seen.add(current);
    // Like TextCraft: an item's own recipes, else (for a tag) the recipes of its group.
    const recipes = index.recipesByOutput.get(current) ?? index.recipesByTag.get(current) ?? [];
    for (const recipe of recipes) {
      tree.push(recipe);
      for (const input of recipe.inputs) visit(ingredientName(input));
    }
  };
  visit(name);
  return tree;
}

/** The command lines of a task, in display order. */
export function craftingCommandLines(index: WorldIndex, goal: string, rng: Rng): string[] {
  const namespace = index.world.namespace;
  const tree = recipeTree(index, goal);
  const treeLines = unique(tree.map((recipe) => recipeLine(recipe, namespace)));
  const treeLineSet = new Set(treeLines);

  const candidates: string[] = [];
  for (const recipe of tree) {
    for (const input of recipe.inputs) {
      const uses = index.usesByName.get(ingredientName(input)) ?? [];
      for (const use of rng.sample(uses, DISTRACTORS_PER_INPUT)) {
        const line = recipeLine(use, namespace);
        if (!treeLineSet.has(line)) candidates.push(line);
      }
    }
  }
  const distractors = rng.sample(unique(candidates), MAX_DISTRACTORS);
  return rng.shuffle([...treeLines, ...distractors]);
}

export function initialObservation(commandLines: readonly string[], goalName: string): string {
  return `Crafting commands:\n${commandLines.join('\n')}\n\nGoal: craft ${goalName}.`;
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}
