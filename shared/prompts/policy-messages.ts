import type { ChatMessage } from '../chat';
import { estimateTokens, PER_MESSAGE_OVERHEAD_TOKENS } from '../inference/server-info';
import { buildRootPrefix, type ConversationPreset } from './presets';

export { estimateTokens };

/** One step already taken: the policy's full response and the environment's answer to it. */
export interface PolicyStep {
  response: string;
  observation: string;
}

export interface PolicyMessagesInput {
  preset: ConversationPreset;
  instruction: string;
  firstObservation: string;
  steps: PolicyStep[];
  /** Token budget of the whole conversation; when exceeded, old steps are dropped. */
  contextBudgetTokens?: number;
  /** Tokens of one message's text; defaults to a rough characters / 4 estimate. */
  countTokens?: (text: string) => number;
  /**
   * Drop exactly this many old steps instead of fitting a budget (see `dropOldSteps`); callers
   * that count with the server's tokenizer pick it with `smallestFittingDrop`.
   */
  dropSteps?: number;
}

/** The most steps that can be dropped: all but the latest. */
export function maxDropSteps(stepCount: number): number {
  return Math.max(0, stepCount - 1);
}

/**
 * The step indices kept after dropping `drop` old steps: first the oldest after the first action
 * (1, 2, ...), as the reference does; only when nothing else is left, the first action too. The
 * latest step always stays.
 */
export function keptStepIndices(stepCount: number, drop: number): number[] {
  const d = Math.min(Math.max(0, drop), maxDropSteps(stepCount));
  const all = Array.from({ length: stepCount }, (_, i) => i);
  if (d === 0) return all;
  if (d >= stepCount - 1) return [stepCount - 1];
  return all.filter((i) => i === 0 || i > d);
}

/**
 * The conversation the policy sees at the current state. Over budget, the oldest steps after the
 * first action are dropped whole (response and observation together, so every assistant turn keeps
 * its observation); the first and the latest step always stay, even if still over budget.
 */
export function buildPolicyMessages(input: PolicyMessagesInput): ChatMessage[] {
  const root = buildRootPrefix(input);
  const count = input.countTokens ?? estimateTokens;
  const messageTokens = (text: string) => count(text) + PER_MESSAGE_OVERHEAD_TOKENS;
  const stepTokens = input.steps.map((s) => messageTokens(s.response) + messageTokens(s.observation));

  let kept = input.steps.map((_, i) => i);
  const budget = input.contextBudgetTokens;
  if (input.dropSteps !== undefined) {
    kept = keptStepIndices(input.steps.length, input.dropSteps);
  } else if (budget !== undefined) {
    let total = root.reduce((sum, m) => sum + messageTokens(m.content), 0);
    for (const t of stepTokens) total += t;
    // Drop index 1, 2, ... (oldest after the first action) while over budget, keeping the last.
    let dropUpTo = 1;
    while (total > budget && dropUpTo < input.steps.length - 1) {
      total -= stepTokens[dropUpTo] ?? 0;
      dropUpTo += 1;
    }
    kept = kept.filter((i) => i === 0 || i >= dropUpTo);
  }

  const messages = [...root];
  for (const i of kept) {
    const step = input.steps[i]!;
    messages.push({ role: 'assistant', content: step.response }, { role: 'user', content: step.observation });
  }
  return messages;
}
