import type { Ingredient, Recipe, World } from './world';
import { ingredientName, worldSchema } from './world';

/**
 * Turns recipes in load order into a World with TextCraft's loader rules (reference/agentgym.md
 * s.2), shared by the Minecraft importer and our authored worlds:
 * - a recipe's group becomes its output's tag when it differs from the output id (an item keeps
 *   the group of the last recipe that named one, even a pruned recipe);
 * - cycle pruning: a recipe is dropped when its output is already among the transitive inputs of
 *   one of its inputs (so the result depends on load order);
 * - a tag ingredient none of whose members is craftable becomes a plain, fetchable item;
 * - depth: base 0, recipe = max(input depth) + 1, item/tag = min over its recipes;
 * - goals: every craftable item (depth >= 1), stably sorted by depth.
 */

export interface SourceRecipe {
  output: string;
  count: number;
  /** Full tag id of the recipe's group (`minecraft:planks`), if any. */
  group?: string;
  inputs: Ingredient[];
}

export interface WorldSource {
  name: string;
  namespace: string;
  recipes: SourceRecipe[];
  /** Items and tags seen in recipes the caller skipped before building (they stay valid names). */
  extraItems?: Iterable<string>;
  extraTags?: Iterable<string>;
}

export interface BuiltWorld {
  world: World;
  /** Recipes dropped by cycle pruning, in load order. */
  pruned: SourceRecipe[];
}

export function buildWorld(source: WorldSource): BuiltWorld {
  const items = new Set<string>(source.extraItems ?? []);
  const tags = new Set<string>(source.extraTags ?? []);
  const tagOfItem = new Map<string, string>();
  const dependencies = new Map<string, Set<string>>();
  const kept: Recipe[] = [];
  const pruned: SourceRecipe[] = [];

  for (const entry of source.recipes) {
    for (const input of entry.inputs) {
      if ('item' in input) items.add(input.item);
      else tags.add(input.tag);
    }
    items.add(entry.output);
    const groupTag = entry.group !== undefined && entry.group !== entry.output ? entry.group : undefined;
    if (groupTag !== undefined) {
      tags.add(groupTag);
      tagOfItem.set(entry.output, groupTag);
    }

    const outputDeps = dependencies.get(entry.output) ?? new Set<string>();
    dependencies.set(entry.output, outputDeps);
    const names = entry.inputs.map(ingredientName);
    if (names.some((name) => dependencies.get(name)?.has(entry.output))) {
      pruned.push(entry);
      continue;
    }
    for (const name of names) {
      outputDeps.add(name);
      for (const dep of dependencies.get(name) ?? []) outputDeps.add(dep);
    }
    const recipe: Recipe = {
      output: entry.output,
      count: entry.count,
      inputs: entry.inputs.map((input) => ({ ...input })),
    };
    if (groupTag !== undefined) recipe.tag = groupTag;
    kept.push(recipe);
  }

  const craftableItems = new Set(kept.map((recipe) => recipe.output));
  const craftableTags = new Set<string>();
  for (const [item, tag] of tagOfItem) if (craftableItems.has(item)) craftableTags.add(tag);
  const convertedTags = new Set<string>();
  for (const recipe of kept) {
    recipe.inputs = recipe.inputs.map((input) => {
      if (!('tag' in input) || craftableTags.has(input.tag)) return input;
      convertedTags.add(input.tag);
      return { item: input.tag, count: input.count };
    });
  }
  for (const tag of convertedTags) {
    items.add(tag);
    tags.delete(tag);
  }

  const recipesByName = new Map<string, Recipe[]>();
  const recipesByTag = new Map<string, Recipe[]>();
  for (const recipe of kept) pushTo(recipesByName, recipe.output, recipe);
  for (const recipe of kept) if (recipe.tag !== undefined) pushTo(recipesByTag, recipe.tag, recipe);
  const depthOf = depthCalculator((name) => recipesByName.get(name) ?? recipesByTag.get(name));

  const craftableNames = new Set([...recipesByName.keys(), ...recipesByTag.keys()]);
  const baseItems = [...items].filter((item) => !craftableNames.has(item) && !tags.has(item)).sort();

  const tagMembers: Record<string, string[]> = {};
  for (const tag of [...tags].sort()) tagMembers[tag] = [];
  for (const [item, tag] of tagOfItem) tagMembers[tag]?.push(item);
  for (const members of Object.values(tagMembers)) members.sort();

  const depthNames = new Set<string>([...craftableNames, ...baseItems, ...tags]);
  for (const recipe of kept) for (const input of recipe.inputs) depthNames.add(ingredientName(input));
  const depths: Record<string, number> = {};
  for (const name of [...depthNames].sort()) depths[name] = depthOf(name);

  // Array.prototype.sort is stable, so equal depths keep load order (like Python's sorted).
  const goals = [...recipesByName.keys()].filter((item) => depthOf(item) >= 1);
  goals.sort((a, b) => depthOf(a) - depthOf(b));

  const world = worldSchema.parse({
    name: source.name,
    namespace: source.namespace,
    recipes: kept,
    tags: tagMembers,
    baseItems,
    depths,
    goals,
  });
  return { world, pruned };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Memoised min-over-recipes / max-over-inputs depth; a cycle (only possible through tags) throws. */
function depthCalculator(recipesFor: (name: string) => Recipe[] | undefined): (name: string) => number {
  const memo = new Map<string, number>();
  const inProgress = new Set<string>();
  const depthOf = (name: string): number => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const recipes = recipesFor(name);
    if (!recipes) {
      memo.set(name, 0);
      return 0;
    }
    if (inProgress.has(name))
      throw new Error(`recipe cycle through ${name}: ${[...inProgress].join(' -> ')}`);
    inProgress.add(name);
    let best = Number.POSITIVE_INFINITY;
    for (const recipe of recipes) {
      let recipeDepth = 0;
      for (const input of recipe.inputs)
        recipeDepth = Math.max(recipeDepth, depthOf(ingredientName(input)) + 1);
      best = Math.min(best, recipeDepth);
    }
    inProgress.delete(name);
    memo.set(name, best);
    return best;
  };
  return depthOf;
}
