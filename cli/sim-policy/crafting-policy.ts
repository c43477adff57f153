import { isFailureObservation, type CraftingConversation, reconstructInventory } from './crafting-text';
import { learnNames } from './knowledge';
import { allMistakeKinds, type MistakeKind, type Move, makeMistake } from './mistakes';
import { makePlan, planNextStep } from './planner';
import { formatResponse, thought } from './wording';

export interface CraftingPolicySettings {
  /** Probability of a mistake at this step (already adjusted for temperature). */
  errorRate: number;
  mistakes?: readonly MistakeKind[];
  random: () => number;
  /** Picks phrasings; `() => 0` gives the fixed wording of greedy decoding. */
  wording: () => number;
}

/**
 * One response of the noisy expert to a crafting conversation. Mostly the planner's action; with
 * probability `errorRate` a realistic mistake instead; once stuck repeating a failing action, it
 * tends to stay stuck (the loops the paper's analysis counts).
 */
export function craftingResponse(conversation: CraftingConversation, settings: CraftingPolicySettings) {
  const move = chooseMove(conversation, settings);
  return { text: formatResponse(move.thought, move.action), move };
}

export function chooseMove(conversation: CraftingConversation, settings: CraftingPolicySettings): Move {
  const { task, steps } = conversation;
  const { random, wording, errorRate } = settings;
  const plan = makePlan(task, learnNames(task, steps));
  const inventory = reconstructInventory(steps);
  const step = planNextStep(plan, task.goal, inventory);

  if (errorRate > 0 && isStuck(steps) && random() < Math.min(0.9, 0.5 + errorRate)) {
    const again = makeMistake('repeat', { task, plan, step, steps, random, wording });
    if (again) return again;
  }

  if (errorRate > 0 && random() < errorRate) {
    const kinds = shuffle([...(settings.mistakes ?? allMistakeKinds)], random);
    for (const kind of kinds) {
      const mistake = makeMistake(kind, { task, plan, step, steps, random, wording });
      if (mistake) return mistake;
    }
  }

  if (!step) return { action: 'inventory', thought: thought('lost', { item: task.goal }, wording) };
  if (step.kind === 'get') {
    const slots = { count: step.count, item: step.item, parent: step.neededFor };
    return { action: step.action, thought: thought('get', slots, wording) };
  }
  const slots = { item: step.recipe.output, parent: step.neededFor ?? '' };
  return {
    action: step.action,
    thought: thought(step.neededFor ? 'craftIntermediate' : 'craftGoal', slots, wording),
  };
}

/** The last two steps tried the same action and both failed. */
function isStuck(steps: CraftingConversation['steps']): boolean {
  const [before, last] = steps.slice(-2);
  return (
    before !== undefined &&
    last !== undefined &&
    before.action === last.action &&
    isFailureObservation(before.observation) &&
    isFailureObservation(last.observation)
  );
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
