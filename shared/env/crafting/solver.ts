import type { Ingredient, Recipe, World } from './world';
import type { WorldIndex } from './world-index';
import { buildWorldIndex } from './world-index';

/**
 * An expert plan for a goal: the `get` / `craft` actions that craft it from an empty inventory,
 * following each item's shallowest recipe and naming tag ingredients by their shallowest concrete
 * member. Used by tests, the simulated policy and demos.
 */

export class UnsolvableGoalError extends Error {}

const MAX_ACTIONS = 10_000;

export function solveGoal(world: World, goal: string): string[] {
  const index = buildWorldIndex(world);
  if (!index.recipesByOutput.has(goal)) throw new UnsolvableGoalError(`no recipe makes ${goal}`);
  const planner = new Planner(index);
  planner.acquire(goal, 1, []);
  return planner.actions;
}

/** The shallowest recipe of an item (first in load order among equals). */
export function easiestRecipe(index: WorldIndex, item: string): Recipe | undefined {
  let best: Recipe | undefined;
  let bestDepth = Number.POSITIVE_INFINITY;
  for (const recipe of index.recipesByOutput.get(item) ?? []) {
    const depth = Math.max(...recipe.inputs.map((input) => index.depth(nameOf(input)) + 1));
    if (depth < bestDepth) {
      best = recipe;
      bestDepth = depth;
    }
  }
  return best;
}

/** The item a plan uses for an ingredient: itself, or the tag's shallowest obtainable member. */
export function concreteItem(index: WorldIndex, ingredient: Ingredient): string {
  if ('item' in ingredient) return ingredient.item;
  const members = (index.world.tags[ingredient.tag] ?? []).filter(
    (member) => index.baseItems.has(member) || index.recipesByOutput.has(member),
  );
  const [first, ...rest] = members;
  if (first === undefined) throw new UnsolvableGoalError(`tag ${ingredient.tag} has no obtainable member`);
  return rest.reduce((best, member) => (index.depth(member) < index.depth(best) ? member : best), first);
}

function nameOf(ingredient: Ingredient): string {
  return 'item' in ingredient ? ingredient.item : ingredient.tag;
}

class Planner {
  readonly actions: string[] = [];
  private readonly inventory = new Map<string, number>();

  constructor(private readonly index: WorldIndex) {}

  /** Makes sure at least `quantity` of `item` are held, emitting the actions that get them. */
  acquire(item: string, quantity: number, path: string[]): void {
    const have = this.inventory.get(item) ?? 0;
    if (have >= quantity) return;
    if (this.actions.length > MAX_ACTIONS)
      throw new UnsolvableGoalError(`plan for ${path[0] ?? item} is too long`);
    const missing = quantity - have;
    if (this.index.baseItems.has(item)) {
      this.emit(`get ${missing} ${this.index.displayName(item)}`);
      this.add(item, missing);
      return;
    }
    const recipe = easiestRecipe(this.index, item);
    if (!recipe) throw new UnsolvableGoalError(`${item} can be neither fetched nor crafted`);
    if (path.includes(item)) throw new UnsolvableGoalError(`recipe loop: ${[...path, item].join(' -> ')}`);

    const times = Math.ceil(missing / recipe.count);
    const inputs = recipe.inputs.map((input) => ({
      item: concreteItem(this.index, input),
      count: input.count,
    }));
    const needed = new Map<string, number>();
    for (const input of inputs) needed.set(input.item, (needed.get(input.item) ?? 0) + input.count * times);
    // Gathering one input can use up another (a sub-recipe may share it), so re-check until all are held.
    for (let round = 0; ; round++) {
      for (const [input, count] of needed) this.acquire(input, count, [...path, item]);
      if ([...needed].every(([input, count]) => (this.inventory.get(input) ?? 0) >= count)) break;
      if (round > 8) throw new UnsolvableGoalError(`could not gather the inputs of ${item}`);
    }
    const using = inputs.map((input) => `${input.count} ${this.index.displayName(input.item)}`).join(', ');
    for (let i = 0; i < times; i++) {
      this.emit(`craft ${recipe.count} ${this.index.displayName(item)} using ${using}`);
      for (const input of inputs) this.add(input.item, -input.count);
      this.add(item, recipe.count);
    }
  }

  private emit(action: string): void {
    this.actions.push(action);
  }

  private add(item: string, amount: number): void {
    this.inventory.set(item, (this.inventory.get(item) ?? 0) + amount);
  }
}
