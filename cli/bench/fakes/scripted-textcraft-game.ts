/**
 * The game behind a fake TextCraft server: a new instance per env id. `scriptedTextCraftGame` is a
 * tiny dye-crafting world with TextCraft's observation texts, for protocol tests that need no
 * real recipe data.
 */
export interface TextCraftGame {
  /** The reset observation of task `dataIdx`. */
  reset(dataIdx: number): string | Promise<string>;
  step(action: string): TextCraftGameStep | Promise<TextCraftGameStep>;
}
export interface TextCraftGameStep {
  observation: string;
  /** 0 or 1, an int as the real server sends it. */
  reward: number;
  done: boolean;
}

interface DyeRecipe {
  output: string;
  count: number;
  inputs: Record<string, number>;
}

const RECIPES: DyeRecipe[] = [
  { output: 'blue_dye', count: 1, inputs: { lapis_lazuli: 1 } },
  { output: 'white_dye', count: 1, inputs: { lily_of_the_valley: 1 } },
  { output: 'light_blue_dye', count: 2, inputs: { blue_dye: 1, white_dye: 1 } },
];
const BASE_ITEMS = new Set(['lapis_lazuli', 'lily_of_the_valley', 'cornflower']);
/** Goals in depth order, like TextCraft's sorted goal list: task idx -> goal (idx % length). */
export const SCRIPTED_TEXTCRAFT_GOALS = ['blue_dye', 'light_blue_dye'] as const;

const toName = (id: string) => id.replaceAll('_', ' ');
const toId = (name: string) => name.replaceAll(' ', '_');

function line(recipe: DyeRecipe): string {
  const inputs = Object.entries(recipe.inputs).map(([id, n]) => `${n} ${toName(id)}`);
  return `craft ${recipe.count} ${toName(recipe.output)} using ${inputs.join(', ')}`;
}

export function scriptedTextCraftGame(): TextCraftGame {
  let goal: string = SCRIPTED_TEXTCRAFT_GOALS[0];
  let inventory = new Map<string, number>();

  function craft(outputText: string, inputsText: string): TextCraftGameStep {
    const output = toId(outputText.replace(/^[0-9]+ /, ''));
    const wanted = new Map<string, number>();
    for (const segment of inputsText.split(',')) {
      const match = /^([0-9]+) (.*)/.exec(segment.trim());
      if (!match) return fail(`Wrong item format: ${segment.trim()}`);
      wanted.set(toId(match[2]!), Number(match[1]));
    }
    for (const [id, n] of wanted) {
      if ((inventory.get(id) ?? 0) < n)
        return fail(`Could not find enough items to craft minecraft:${output}`);
    }
    const recipe = RECIPES.find(
      (candidate) =>
        candidate.output === output &&
        Object.keys(candidate.inputs).length === wanted.size &&
        Object.entries(candidate.inputs).every(([id, n]) => wanted.get(id) === n),
    );
    if (!recipe) {
      const count = /^([0-9]+) /.exec(outputText)?.[1] ?? '1';
      return fail(
        `Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='minecraft:${output}'), count=${count})`,
      );
    }
    for (const [id, n] of wanted) {
      const left = (inventory.get(id) ?? 0) - n;
      if (left === 0) inventory.delete(id);
      else inventory.set(id, left);
    }
    inventory.set(output, (inventory.get(output) ?? 0) + recipe.count);
    const done = output === goal;
    return { observation: `Crafted ${recipe.count} minecraft:${output}`, reward: done ? 1 : 0, done };
  }

  return {
    reset(dataIdx) {
      goal = SCRIPTED_TEXTCRAFT_GOALS[dataIdx % SCRIPTED_TEXTCRAFT_GOALS.length]!;
      inventory = new Map();
      const lines = RECIPES.filter((recipe) => goal === 'light_blue_dye' || recipe.output === goal).map(line);
      return `Crafting commands:\n${lines.join('\n')}\n\nGoal: craft ${toName(goal)}.`;
    },
    step(action) {
      const crafting = /^craft (.*) using (.*)/.exec(action);
      if (crafting) return craft(crafting[1]!, crafting[2]!);
      const getting = /^get ([0-9]+) (.*)/.exec(action);
      if (getting) {
        const id = toId(getting[2]!);
        if (!BASE_ITEMS.has(id)) return fail(`Could not find ${getting[2]}`);
        inventory.set(id, (inventory.get(id) ?? 0) + Number(getting[1]));
        return { observation: `Got ${getting[1]} ${getting[2]}`, reward: 0, done: false };
      }
      if (action.startsWith('inventory')) {
        if (inventory.size === 0) return fail('Inventory: You are not carrying anything.');
        const items = [...inventory].map(([id, n]) => `[${toName(id)}] (${n}) `).join('');
        return fail(`Inventory: ${items}`);
      }
      return fail(`Could not execute ${action}`);
    },
  };
}

function fail(observation: string): TextCraftGameStep {
  return { observation, reward: 0, done: false };
}
