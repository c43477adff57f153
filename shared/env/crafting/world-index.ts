import type { Recipe, World } from './world';
import { ingredientName } from './world';
import { itemIdToName, normaliseItemQuery } from './names';

/**
 * Lookup maps derived from a stored World (never stored themselves). Built once per World object
 * and cached, so the many sessions a search creates share one index.
 */
export interface WorldIndex {
  world: World;
  /** Item id -> its recipes in load order (TextCraft's `itemid_recipes`). */
  recipesByOutput: Map<string, Recipe[]>;
  /** Group tag -> recipes whose output carries it (TextCraft's `tag_recipes`). */
  recipesByTag: Map<string, Recipe[]>;
  tagNames: Set<string>;
  /** Item id -> the tags it belongs to (TextCraft's `item_id_to_tag`, as a set). */
  tagsOfItem: Map<string, Set<string>>;
  baseItems: Set<string>;
  /** Ingredient name -> recipes that use it (TextCraft's `collect_item_uses`), for distractors. */
  usesByName: Map<string, Recipe[]>;
  goalIndex: Map<string, number>;
  isCraftable(name: string): boolean;
  depth(name: string): number;
  displayName(id: string): string;
}

const cache = new WeakMap<World, WorldIndex>();

export function buildWorldIndex(world: World): WorldIndex {
  const cached = cache.get(world);
  if (cached) return cached;

  const recipesByOutput = new Map<string, Recipe[]>();
  const recipesByTag = new Map<string, Recipe[]>();
  const usesByName = new Map<string, Recipe[]>();
  for (const recipe of world.recipes) {
    append(recipesByOutput, recipe.output, recipe);
    if (recipe.tag !== undefined) append(recipesByTag, recipe.tag, recipe);
    for (const input of recipe.inputs) append(usesByName, ingredientName(input), recipe);
  }
  const tagsOfItem = new Map<string, Set<string>>();
  for (const [tag, members] of Object.entries(world.tags)) {
    for (const member of members) {
      const set = tagsOfItem.get(member) ?? new Set<string>();
      set.add(tag);
      tagsOfItem.set(member, set);
    }
  }
  const goalIndex = new Map<string, number>();
  world.goals.forEach((goal, i) => {
    if (!goalIndex.has(goal)) goalIndex.set(goal, i);
  });

  const index: WorldIndex = {
    world,
    recipesByOutput,
    recipesByTag,
    tagNames: new Set(Object.keys(world.tags)),
    tagsOfItem,
    baseItems: new Set(world.baseItems),
    usesByName,
    goalIndex,
    isCraftable: (name) => recipesByOutput.has(name) || recipesByTag.has(name),
    depth: (name) => world.depths[name] ?? 0,
    displayName: (id) => itemIdToName(id, world.namespace),
  };
  cache.set(world, index);
  return index;
}

/**
 * The goal index a user means by an item name (`oak planks`, `oak_planks`, `minecraft:oak_planks`,
 * any case), or undefined when that item is not a goal of the world.
 */
export function findGoalIndex(world: World, query: string): number | undefined {
  const { goalIndex } = buildWorldIndex(world);
  const id = normaliseItemQuery(query, world.namespace);
  const exact = goalIndex.get(id);
  if (exact !== undefined) return exact;
  const lower = id.toLowerCase();
  for (const [goal, index] of goalIndex) if (goal.toLowerCase() === lower) return index;
  return undefined;
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
