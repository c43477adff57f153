import type { ChatMessage } from './chat';
import { cleanTextCraftAction } from './env/agentgym/textcraft-action';
import { parseAction } from './inference/parse-action';
import type { PathStep } from './mcts';
import { instructionFor } from './prompts/instructions';
import type { ShrinkablePrompt } from './prompts/fit-prompt';
import { buildPolicyMessages, maxDropSteps } from './prompts/policy-messages';
import { buildRootPrefix } from './prompts/presets';
import type { RunSpec } from './contracts/run-spec';

// The conversation of a run's policy, built the same way by the expander (prompts) and the
// splicer (training records), so the data matches what the model saw.

export function instructionForRun(spec: RunSpec): string {
  return instructionFor(spec.env === 'crafting' ? 'crafting' : (spec.flavor ?? 'textcraft'));
}

export function rootPrefixForRun(spec: RunSpec, firstObservation: string): ChatMessage[] {
  return buildRootPrefix({ preset: spec.preset, instruction: instructionForRun(spec), firstObservation });
}

/** The prompt at a tree node; `path` is root first (its observation is the first observation). */
export function policyMessagesForRun(spec: RunSpec, path: readonly PathStep[]): ChatMessage[] {
  const [root, ...steps] = path;
  return buildPolicyMessages({
    preset: spec.preset,
    instruction: instructionForRun(spec),
    firstObservation: root?.observation ?? '',
    steps: steps.map((s) => ({ response: s.response, observation: s.observation })),
    contextBudgetTokens: Math.max(256, spec.contextTokens - spec.maxTokens),
  });
}

/**
 * The prompt at a tree node with its steps droppable oldest first, for callers that count with the
 * server's tokenizer (the expander) instead of the estimate `policyMessagesForRun` uses.
 */
export function policyPromptForRun(spec: RunSpec, path: readonly PathStep[]): ShrinkablePrompt {
  const [root, ...steps] = path;
  const input = {
    preset: spec.preset,
    instruction: instructionForRun(spec),
    firstObservation: root?.observation ?? '',
    steps: steps.map((s) => ({ response: s.response, observation: s.observation })),
  };
  return {
    maxDrop: maxDropSteps(steps.length),
    build: (drop) => buildPolicyMessages({ ...input, dropSteps: drop }),
  };
}

/**
 * An environment observation as the run stores it: with `cleanObservations`, newlines and tabs
 * become spaces, as the reference's MCTS does before an observation enters the conversation.
 */
export function observationForRun(spec: Pick<RunSpec, 'cleanObservations'>, observation: string): string {
  return spec.cleanObservations ? observation.replace(/[\n\t]/g, ' ') : observation;
}

/**
 * The reference normalises responses before de-duplicating them: surrounding space stripped and
 * numbered markers ("Thought 1:", "Action 2:") written without the number.
 */
export function normalizeResponse(text: string): string {
  return text.trim().replace(/\b(Thought|Action)\s+\d+\s*:/g, '$1:');
}

/** The action the environment receives for a policy response (reference parsing, then the env's). */
export function actionForRun(spec: Pick<RunSpec, 'env'>, response: string): string {
  const action = parseAction(response);
  return spec.env === 'crafting' ? cleanTextCraftAction(action) : action;
}
