import { z } from 'zod';
import { pickOne } from '../../shared/random';
import type { CraftingTask, TakenStep } from './crafting-text';
import type { Plan, PlannedStep } from './planner';
import { thought } from './wording';

/** The kinds of realistic errors the simulated policy makes (those LLM agents make in TextCraft). */
export const mistakeKindSchema = z.enum([
  'wrong-count', // right recipe, wrong ingredient count
  'generic-tag', // `planks` instead of a concrete member such as `oak planks`
  'craft-before-gather', // crafting something whose ingredients are not collected yet
  'fetch-craftable', // `get` of an item that must be crafted
  'irrelevant-recipe', // working on a distractor recipe
  'repeat', // repeating the previous action (and getting stuck in a loop)
]);
export type MistakeKind = z.infer<typeof mistakeKindSchema>;
export const allMistakeKinds: readonly MistakeKind[] = mistakeKindSchema.options;

export interface Move {
  action: string;
  thought: string;
  mistake?: MistakeKind;
}

export interface MistakeContext {
  task: CraftingTask;
  plan: Plan;
  /** The correct next step (null when the planner is lost). */
  step: PlannedStep | null;
  steps: readonly TakenStep[];
  random: () => number;
  /** Picks phrasings (fixed at temperature 0). */
  wording: () => number;
}

/** The mistake of that kind in this situation, or null when it does not apply. */
export function makeMistake(kind: MistakeKind, ctx: MistakeContext): Move | null {
  const move = builders[kind](ctx);
  return move ? { ...move, mistake: kind } : null;
}

type Builder = (ctx: MistakeContext) => Omit<Move, 'mistake'> | null;

const builders: Record<MistakeKind, Builder> = {
  'wrong-count': ({ step, random, wording }) => {
    if (!step) return null;
    if (step.kind === 'get') {
      const count = step.count > 1 && random() < 0.7 ? step.count - 1 : step.count + 1;
      const slots = { count, item: step.item, parent: step.neededFor };
      return { action: `get ${count} ${step.item}`, thought: thought('get', slots, wording) };
    }
    const at = Math.floor(random() * step.inputs.length);
    const inputs = step.inputs.map((input, i) => {
      if (i !== at) return input;
      const count = input.count > 1 && random() < 0.5 ? input.count - 1 : input.count + 1;
      return { ...input, count };
    });
    const using = inputs.map((i) => `${i.count} ${i.name}`).join(', ');
    const slots = { item: step.recipe.output, parent: step.neededFor ?? step.recipe.output };
    return {
      action: `craft ${step.recipe.outCount} ${step.recipe.output} using ${using}`,
      thought: thought(step.neededFor ? 'craftIntermediate' : 'craftGoal', slots, wording),
    };
  },

  'generic-tag': ({ task, plan, step, random, wording }) => {
    // In a craft: name the generic ingredient the recipe line shows instead of the member.
    if (step?.kind === 'craft') {
      const generic = step.recipe.inputs.find((input) => plan.book.isTag(input.name));
      if (generic) {
        const using = step.recipe.inputs.map((i) => `${i.count} ${i.name}`).join(', ');
        return {
          action: `craft ${step.recipe.outCount} ${step.recipe.output} using ${using}`,
          thought: thought(
            'generic',
            { item: generic.name, count: generic.count, parent: step.recipe.output },
            wording,
          ),
        };
      }
    }
    // Otherwise try to fetch a generic ingredient of the tree (`get 2 planks`).
    const uses = [...plan.book.treeItems(task.goal)]
      .flatMap((name) => plan.book.producers(name))
      .flatMap((recipe) =>
        recipe.inputs.filter((i) => plan.book.isTag(i.name)).map((i) => ({ recipe, input: i })),
      );
    const use = pickOne(random, uses);
    if (!use) return null;
    const slots = { item: use.input.name, count: use.input.count, parent: use.recipe.output };
    return {
      action: `get ${use.input.count} ${use.input.name}`,
      thought: thought('generic', slots, wording),
    };
  },

  'craft-before-gather': ({ task, plan, step, wording }) => {
    if (!step) return null;
    const target = step.neededFor ?? (step.kind === 'get' ? task.goal : null);
    if (!target || (step.kind === 'craft' && step.recipe.output === target)) return null;
    const recipe = plan.recipes.get(target);
    if (!recipe) return null;
    const using = recipe.inputs.map((i) => `${i.count} ${plan.members.get(i.name) ?? i.name}`).join(', ');
    return {
      action: `craft ${recipe.outCount} ${recipe.output} using ${using}`,
      thought: thought('premature', { item: recipe.output }, wording),
    };
  },

  'fetch-craftable': ({ task, plan, step, random, wording }) => {
    const candidates = step?.kind === 'craft' ? [step.recipe] : [...plan.recipes.values()];
    const recipe = pickOne(random, candidates) ?? plan.recipes.get(task.goal);
    if (!recipe) return null;
    return {
      action: `get ${recipe.outCount} ${recipe.output}`,
      thought: thought('direct', { item: recipe.output }, wording),
    };
  },

  'irrelevant-recipe': ({ task, plan, random, wording }) => {
    const recipe = pickOne(random, plan.book.distractors(task.goal));
    if (!recipe) return null;
    const slots = { item: recipe.output };
    const baseInput = recipe.inputs.find((i) => plan.book.isBase(i.name));
    if (baseInput && random() < 0.5) {
      return {
        action: `get ${baseInput.count} ${baseInput.name}`,
        thought: thought('irrelevant', slots, wording),
      };
    }
    return { action: recipe.line, thought: thought('irrelevant', slots, wording) };
  },

  repeat: ({ steps, wording }) => {
    const last = steps[steps.length - 1];
    if (!last || last.action === '') return null;
    return { action: last.action, thought: thought('repeat', {}, wording) };
  },
};
