import type { ChatMessage } from '../../shared/chat';
import { cleanTextCraftAction as normalizeTextCraftAction } from '../../shared/env/agentgym/textcraft-action';
import { parseAction } from '../../shared/inference/parse-action';

/**
 * Reading TextCraft / crafting conversations from their text alone (the simulator sees only what
 * a language model would see): recipe lines and goal of the first observation, and the inventory
 * implied by the observations that followed each action.
 */

export interface Ingredient {
  count: number;
  name: string;
}

export interface Recipe {
  outCount: number;
  output: string;
  inputs: Ingredient[];
  /** The line as shown, e.g. `craft 4 stick using 2 planks`. */
  line: string;
}

export interface CraftingTask {
  recipes: Recipe[];
  goal: string;
}

export interface TakenStep {
  action: string;
  observation: string;
}

export interface CraftingConversation {
  task: CraftingTask;
  taskText: string;
  steps: TakenStep[];
}

const RECIPE_LINE = /^craft (\d+) (.+?) using (.+)$/;
const GOAL_LINE = /^Goal: craft (.+?)\.?\s*$/m;

export function parseIngredients(text: string): Ingredient[] | null {
  const inputs: Ingredient[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+) (.+?)\s*$/.exec(part);
    if (!m) return null;
    inputs.push({ count: Number(m[1]), name: m[2]! });
  }
  return inputs;
}

export function parseRecipeLine(line: string): Recipe | null {
  const m = RECIPE_LINE.exec(line.trim());
  if (!m) return null;
  const inputs = parseIngredients(m[3]!);
  if (!inputs) return null;
  return { outCount: Number(m[1]), output: m[2]!, inputs, line: line.trim() };
}

/** The recipes and goal of a first observation `Crafting commands:\n...\n\nGoal: craft X.` */
export function parseCraftingTask(observation: string): CraftingTask | null {
  if (!observation.includes('Crafting commands:')) return null;
  const goal = GOAL_LINE.exec(observation)?.[1];
  if (!goal) return null;
  const recipes: Recipe[] = [];
  for (const line of observation.split('\n')) {
    const recipe = parseRecipeLine(line);
    if (recipe) recipes.push(recipe);
  }
  return { recipes, goal: goal.trim() };
}

/** Finds the task in a policy conversation and pairs every later response with its observation. */
export function readCraftingConversation(messages: ChatMessage[]): CraftingConversation | null {
  const start = messages.findIndex((m) => m.role === 'user' && parseCraftingTask(m.content) !== null);
  if (start < 0) return null;
  const taskText = messages[start]!.content;
  const task = parseCraftingTask(taskText)!;
  const steps: TakenStep[] = [];
  for (let i = start + 1; i + 1 < messages.length; i += 2) {
    const response = messages[i]!;
    const observation = messages[i + 1]!;
    if (response.role !== 'assistant' || observation.role !== 'user') break;
    steps.push({
      action: normalizeTextCraftAction(parseAction(response.content)),
      observation: observation.content,
    });
  }
  return { task, taskText, steps };
}

/** `minecraft:oak_planks` -> `oak planks` (any namespace: worlds other than Minecraft have their own). */
export function displayName(itemId: string): string {
  return itemId.replace(/^[a-z0-9_.-]+:/, '').replace(/_/g, ' ');
}

/**
 * The inventory after the given steps: `Got N x` adds, `Crafted N minecraft:x` adds the output
 * and removes the ingredients named in the craft action, `Inventory: ...` states it exactly.
 */
export function reconstructInventory(steps: TakenStep[]): Map<string, number> {
  let inventory = new Map<string, number>();
  const add = (name: string, delta: number) => {
    const next = (inventory.get(name) ?? 0) + delta;
    if (next > 0) inventory.set(name, next);
    else inventory.delete(name);
  };
  for (const { action, observation } of steps) {
    const text = observation.trim();
    const got = /^Got (\d+) (.+)$/.exec(text);
    const crafted = /^Crafted (\d+) (\S+)$/.exec(text);
    if (text.startsWith('Inventory:')) {
      inventory = new Map();
      for (const m of text.matchAll(/\[([^\]]+)\] \((\d+)\)/g)) add(m[1]!, Number(m[2]));
    } else if (got) {
      add(got[2]!.trim(), Number(got[1]));
    } else if (crafted) {
      const using = /\busing (.+)$/.exec(action);
      for (const input of (using && parseIngredients(using[1]!)) ?? []) add(input.name, -input.count);
      add(displayName(crafted[2]!), Number(crafted[1]));
    }
  }
  return inventory;
}

/** A failed action: the environment says it could not do it. */
export function isFailureObservation(observation: string): boolean {
  return /^(Could not|Wrong item format|Error)/.test(observation.trim());
}
