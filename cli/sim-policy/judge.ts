import { cleanTextCraftAction as normalizeTextCraftAction } from '../../shared/env/agentgym/textcraft-action';
import { pickOne } from '../../shared/random';
import type { StepJudgement, VerifierInput } from '../../shared/prompts/verifier';
import { isFailureObservation, parseCraftingTask } from './crafting-text';
import { RecipeBook } from './recipe-book';

/**
 * The simulated verifier: decides whether a step really was good or bad from the task text and
 * the observation, then answers correctly with probability `accuracy` (a real judge errs).
 */

export interface Assessment {
  truth: StepJudgement;
  reason: string;
}

export function assessStep(input: VerifierInput): Assessment {
  const action = normalizeTextCraftAction(input.current.action);
  const observation = input.current.observation.trim();
  if (isFailureObservation(observation)) {
    return {
      truth: 'bad',
      reason: `The environment answered "${observation}", so the action "${action}" failed.`,
    };
  }
  const previous = input.history[input.history.length - 1];
  if (
    previous &&
    normalizeTextCraftAction(previous.action) === action &&
    previous.observation.trim() === observation &&
    !/^(Got|Crafted) /.test(observation)
  ) {
    return { truth: 'bad', reason: `"${action}" repeats the previous step and brings nothing new: a loop.` };
  }
  const task = parseCraftingTask(input.taskDescription);
  const target = /^(?:get \d+|craft \d+) (.+?)(?: using .*)?$/.exec(action)?.[1];
  if (!task || !target) {
    return { truth: 'uncertain', reason: `"${action}" neither fails nor clearly advances the task.` };
  }
  if (!new RecipeBook(task.recipes).treeItems(task.goal, true).has(target)) {
    return {
      truth: 'bad',
      reason: `${target} is not needed to craft ${task.goal}; the action is irrelevant.`,
    };
  }
  if (target === task.goal) {
    return { truth: 'good', reason: `It crafts ${task.goal}, which is the goal.` };
  }
  return { truth: 'good', reason: `${target} is part of what ${task.goal} needs and the action succeeded.` };
}

export interface JudgeSettings {
  accuracy: number;
  random: () => number;
}

const labels: StepJudgement[] = ['good', 'bad', 'uncertain'];
const capitalised: Record<StepJudgement, string> = { good: 'Good', bad: 'Bad', uncertain: 'Uncertain' };

/** The verifier's answer text: reasons first, then the `Judgment:` line. */
export function judgeResponse(input: VerifierInput, settings: JudgeSettings) {
  const assessment = assessStep(input);
  const correct = settings.random() < settings.accuracy;
  const said = correct
    ? assessment.truth
    : pickOne(
        settings.random,
        labels.filter((l) => l !== assessment.truth),
      )!;
  const reason = correct
    ? assessment.reason
    : `On balance the step "${input.current.action}" looks ${said} to me.`;
  const text = `Let me look at the current action and what followed it. ${reason}\nJudgment: ${capitalised[said]}`;
  return { text, said, truth: assessment.truth };
}
