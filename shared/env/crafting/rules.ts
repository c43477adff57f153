import type { StepResult } from '../types';
import type { Recipe } from './world';
import type { WorldIndex } from './world-index';
import { nameToItemId } from './names';
import { itemTagWithCountRepr, pythonStrip } from './python-compat';

/**
 * One TextCraft step, rule for rule (reference/agentgym.md s.2; AgentGym's TextCraftEnv.step):
 * prefixes matched case-sensitively at the start, `.` as Python's (anything but "\n"), counts as
 * unbounded integers, the exact wording of every message. Reward 1 and done only on the step that
 * crafts the goal; later steps are still accepted (and report done: false, like the server).
 */

export interface CraftingState {
  goal: string;
  /** Insertion-ordered like the server's dict: an item used up is deleted and re-added at the end. */
  inventory: Map<string, bigint>;
}

/** What a typed name refers to: TextCraft's ItemTag (exactly one of the two is set). */
interface ItemRef {
  tag: string | null;
  itemId: string | null;
}
interface ItemRefWithCount {
  ref: ItemRef;
  count: bigint;
}

const CRAFT = /^craft ([^\n]*) using ([^\n]*)/;
const GET = /^get ([0-9]+) ([^\n]*)/;
const INVENTORY = /^inventory/;
const COUNTED = /^([0-9]+) ([^\n]*)/;

/**
 * A refused action's observation, thrown from deep in a rule and caught in applyAction. Not an
 * Error: it never leaves this module, and an Error captures a stack trace at every refused action
 * (a policy's wrong commands are common: it was 2% of the expander's CPU in a build's profile).
 */
class ActionFailed {
  constructor(readonly message: string) {}
}

export function applyAction(index: WorldIndex, state: CraftingState, action: string): StepResult {
  try {
    const craft = CRAFT.exec(action);
    if (craft) return craftStep(index, state, craft[1] ?? '', craft[2] ?? '');
    const get = GET.exec(action);
    if (get) return getStep(index, state, BigInt(get[1] ?? '0'), get[2] ?? '');
    if (INVENTORY.test(action)) return result(inventoryText(index, state));
    throw new ActionFailed(`Could not execute ${action}`);
  } catch (error) {
    if (error instanceof ActionFailed) return result(error.message);
    throw error;
  }
}

function result(observation: string, reward = 0): StepResult {
  return { observation, reward, done: reward === 1 };
}

function refFor(index: WorldIndex, name: string): ItemRef {
  const id = nameToItemId(name, index.world.namespace);
  return index.tagNames.has(id) ? { tag: id, itemId: null } : { tag: null, itemId: id };
}

function craftStep(
  index: WorldIndex,
  state: CraftingState,
  outputText: string,
  inputsText: string,
): StepResult {
  const counted = COUNTED.exec(outputText);
  const output: ItemRefWithCount = counted
    ? { ref: refFor(index, counted[2] ?? ''), count: BigInt(counted[1] ?? '0') }
    : { ref: refFor(index, outputText), count: 1n };
  const inputs = inputsText.split(',').map((segment): ItemRefWithCount => {
    const text = pythonStrip(segment);
    const match = COUNTED.exec(text);
    if (!match) throw new ActionFailed(`Wrong item format: ${text}`);
    return { ref: refFor(index, match[2] ?? ''), count: BigInt(match[1] ?? '0') };
  });

  // Presence is checked before the recipe: a tag-named ingredient is never "in" the inventory.
  const hasAll = inputs.every(({ ref, count }) => {
    const have = ref.itemId === null ? undefined : state.inventory.get(ref.itemId);
    return have !== undefined && have >= count;
  });
  if (!hasAll) throw new ActionFailed(`Could not find enough items to craft ${output.ref.itemId ?? 'None'}`);

  const recipe = matchingRecipe(index, output.ref.itemId, inputs);
  if (!recipe) {
    throw new ActionFailed(
      `Could not find a valid recipe for ${itemTagWithCountRepr(output.ref.tag, output.ref.itemId, output.count)}`,
    );
  }
  for (const { ref, count } of inputs) {
    const id = ref.itemId as string;
    // The server deletes an entry only when it reaches exactly 0.
    const left = (state.inventory.get(id) ?? 0n) - count;
    if (left === 0n) state.inventory.delete(id);
    else state.inventory.set(id, left);
  }
  addItem(state, recipe.output, BigInt(recipe.count));
  return result(`Crafted ${recipe.count} ${recipe.output}`, recipe.output === state.goal ? 1 : 0);
}

/**
 * The first recipe of the named output whose every ingredient is matched, with the exact count, by
 * a distinct given input and that leaves no input over. The output count asked for is ignored.
 */
function matchingRecipe(
  index: WorldIndex,
  outputId: string | null,
  inputs: ItemRefWithCount[],
): Recipe | undefined {
  if (outputId === null) return undefined;
  return index.recipesByOutput.get(outputId)?.find((recipe) => {
    const remaining = inputs.slice();
    for (const ingredient of recipe.inputs) {
      const at = remaining.findIndex(({ ref }) =>
        'item' in ingredient
          ? ref.itemId === ingredient.item
          : ref.tag === ingredient.tag ||
            (ref.itemId !== null && !!index.tagsOfItem.get(ref.itemId)?.has(ingredient.tag)),
      );
      const found = remaining[at];
      if (!found || found.count !== BigInt(ingredient.count)) return false;
      remaining.splice(at, 1);
    }
    return remaining.length === 0;
  });
}

function getStep(index: WorldIndex, state: CraftingState, amount: bigint, name: string): StepResult {
  const ref = refFor(index, name);
  const id = ref.itemId;
  if (id === null || index.isCraftable(id) || !index.baseItems.has(id))
    throw new ActionFailed(`Could not find ${name}`);
  addItem(state, id, amount);
  return result(`Got ${amount} ${name}`, id === state.goal ? 1 : 0);
}

function addItem(state: CraftingState, id: string, amount: bigint): void {
  state.inventory.set(id, (state.inventory.get(id) ?? 0n) + amount);
}

function inventoryText(index: WorldIndex, state: CraftingState): string {
  if (state.inventory.size === 0) return 'Inventory: You are not carrying anything.';
  let text = 'Inventory: ';
  for (const [id, amount] of state.inventory) text += `[${index.displayName(id)}] (${amount}) `;
  return text;
}
