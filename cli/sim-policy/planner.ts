import type { CraftingTask, Ingredient, Recipe } from './crafting-text';
import { type NameKnowledge, noKnowledge, RecipeBook } from './recipe-book';

/**
 * The expert: from the recipe lines, the goal and the current inventory, the correct next action.
 * Works backwards from the goal: the first ingredient still missing is fetched (base items, in
 * the total amount still needed) or crafted (once its own ingredients are at hand). Recipe and
 * tag-member choices are fixed from the shown lines alone, so the plan does not change its mind
 * from one turn to the next.
 */

export type PlannedStep =
  | { kind: 'get'; action: string; item: string; count: number; neededFor: string }
  | { kind: 'craft'; action: string; recipe: Recipe; inputs: Ingredient[]; neededFor: string | null };

export interface Plan {
  book: RecipeBook;
  /** Chosen recipe per craftable item of the goal's tree. */
  recipes: Map<string, Recipe>;
  /** Preferred concrete member per generic ingredient. */
  members: Map<string, string>;
}

const MAX_DEPTH = 40;

export function makePlan(task: CraftingTask, knowledge: NameKnowledge = noKnowledge): Plan {
  const book = new RecipeBook(task.recipes, knowledge);
  const recipes = new Map<string, Recipe>();
  const members = new Map<string, string>();
  // Names used concretely in the tree (e.g. `acacia planks` next to a generic `planks`): making
  // the generic ingredient from the same member lets one batch serve both.
  const usedBy = new Map<string, Set<string>>();
  for (const name of book.treeItems(task.goal)) {
    for (const r of book.producers(name)) {
      for (const input of r.inputs)
        usedBy.set(input.name, (usedBy.get(input.name) ?? new Set()).add(r.output));
    }
  }
  // ...but not when only the other members use it (`white wool` is what the other wools are dyed from).
  const usedConcretely = (member: string, members: string[]) =>
    [...(usedBy.get(member) ?? [])].some((user) => !members.includes(user));

  const choose = (name: string, qty: number, depth: number) => {
    if (depth > MAX_DEPTH || recipes.has(name) || members.has(name)) return;
    const tagMembers = book.tagMembers(name);
    if (tagMembers.length > 0) {
      const preferred = tagMembers.filter((m) => usedConcretely(m, tagMembers));
      const materials = book.materialsOf(tagMembers);
      const finished = tagMembers.filter((m) => !materials.has(m));
      const pool = preferred.length > 0 ? preferred : finished.length > 0 ? finished : tagMembers;
      const member = minBy(pool, (m) => book.cost(m, qty))!;
      members.set(name, member);
      choose(member, qty, depth + 1);
      return;
    }
    const recipe = book.cheapestRecipe(name, qty);
    if (!recipe) return;
    recipes.set(name, recipe);
    const crafts = Math.ceil(qty / recipe.outCount);
    for (const input of recipe.inputs) choose(input.name, input.count * crafts, depth + 1);
  };
  choose(task.goal, 1, 0);
  return { book, recipes, members };
}

/** The next correct action; null when the goal cannot be made from the shown lines. */
export function planNextStep(
  plan: Plan,
  goal: string,
  inventory: ReadonlyMap<string, number>,
): PlannedStep | null {
  const goalRecipe = plan.recipes.get(goal);
  if (!goalRecipe) return null;
  const virtual = new Map(inventory);
  return craftWhenReady(plan, goalRecipe, 1, null, virtual, 0);
}

/** Secures the inputs of `crafts` crafts of `recipe`, then crafts once. */
function craftWhenReady(
  plan: Plan,
  recipe: Recipe,
  crafts: number,
  neededFor: string | null,
  virtual: Map<string, number>,
  depth: number,
): PlannedStep {
  const inputs: Ingredient[] = [];
  for (const input of recipe.inputs) {
    const name = concreteName(plan, input.name, input.count * crafts, virtual);
    const missing = secure(plan, name, input.count * crafts, recipe.output, virtual, depth + 1);
    if (missing) return missing;
    inputs.push({ count: input.count, name });
  }
  const using = inputs.map((i) => `${i.count} ${i.name}`).join(', ');
  return {
    kind: 'craft',
    action: `craft ${recipe.outCount} ${recipe.output} using ${using}`,
    recipe,
    inputs,
    neededFor,
  };
}

/** Null when `qty` of `name` is at hand (and reserves it), else the first action towards it. */
function secure(
  plan: Plan,
  name: string,
  qty: number,
  neededFor: string,
  virtual: Map<string, number>,
  depth: number,
): PlannedStep | null {
  const have = virtual.get(name) ?? 0;
  if (have >= qty) {
    virtual.set(name, have - qty);
    return null;
  }
  virtual.set(name, 0);
  const deficit = qty - have;
  const recipe =
    depth > MAX_DEPTH ? null : (plan.recipes.get(name) ?? plan.book.cheapestRecipe(name, deficit));
  if (!recipe)
    return { kind: 'get', action: `get ${deficit} ${name}`, item: name, count: deficit, neededFor };
  return craftWhenReady(plan, recipe, Math.ceil(deficit / recipe.outCount), neededFor, virtual, depth);
}

/**
 * A generic ingredient becomes a concrete member: one already at hand in the amount needed
 * (most first; not a material the other members are made from), else the planned member.
 * Other names are returned unchanged.
 */
function concreteName(plan: Plan, name: string, qty: number, virtual: ReadonlyMap<string, number>): string {
  const tagMembers = plan.book.tagMembers(name);
  if (tagMembers.length === 0) return name;
  const materials = plan.book.materialsOf(tagMembers);
  const atHand = tagMembers.filter((m) => !materials.has(m) && (virtual.get(m) ?? 0) >= qty);
  if (atHand.length > 0) return maxBy(atHand, (m) => virtual.get(m) ?? 0)!;
  return plan.members.get(name) ?? tagMembers[0]!;
}

function minBy<T>(items: readonly T[], score: (item: T) => number): T | undefined {
  let best: T | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const item of items) {
    const s = score(item);
    if (best === undefined || s < bestScore) {
      best = item;
      bestScore = s;
    }
  }
  return best;
}

function maxBy<T>(items: readonly T[], score: (item: T) => number): T | undefined {
  return minBy(items, (item) => -score(item));
}
