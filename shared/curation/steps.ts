import { normalizeAction } from '../eval/loops';
import { parseAction } from '../inference/parse-action';
import type { LossMessage } from '../revision/conversation';
import type { NativeRecord } from '../revision/native-record';

// What a record's conversation says about its actions: each assistant turn's action, the
// observation the environment answered with, and whether that answer was a rejection.

/**
 * Observations with which an environment refuses an action (it changes nothing):
 * - TextCraft / the built-in crafting engine (shared/env/crafting/rules.ts, reference/agentgym.md
 *   s.2): `Could not find ...`, `Could not execute ...`, `Could not find enough items ...`,
 *   `Could not find a valid recipe ...`, `Wrong item format: ...`.
 * - ScienceWorld (the string in scienceworld.jar of the vendored runtime):
 *   `No known action matches that input.`
 * WebShop answers an invalid action with the unchanged page (a no-op), which text alone cannot
 * tell from a valid action: it is never counted as a rejection.
 */
const REJECTIONS: readonly RegExp[] = [
  /^Could not /,
  /^Wrong item format:/,
  /^No known action matches that input\./,
];

export function isRejection(observation: string): boolean {
  const text = observation.trimStart();
  return REJECTIONS.some((pattern) => pattern.test(text));
}

export interface ConversationStep {
  /** Index of the assistant turn in the conversation. */
  turn: number;
  /** The action as the environment reads it (normalised: case, spacing and a final dot ignored). */
  action: string;
  /** The user turn after it ('' when the conversation ends there). */
  observation: string;
  rejected: boolean;
  trained: boolean;
  /** The spliced reflection turn (`Action: wait`, answered `ok.`): not an environment action. */
  reflection: boolean;
}

/** Every assistant turn as an action step. Turns before the first user turn (none in records) are skipped. */
export function conversationSteps(log: readonly LossMessage[]): ConversationStep[] {
  const steps: ConversationStep[] = [];
  log.forEach((message, turn) => {
    if (message.role !== 'assistant') return;
    const next = log[turn + 1];
    const observation = next && next.role === 'user' ? next.content : '';
    const action = normalizeAction(parseAction(message.content));
    steps.push({
      turn,
      action,
      observation,
      rejected: isRejection(observation),
      trained: message.loss === true,
      reflection: action === 'wait' && observation.trim() === 'ok.',
    });
  });
  return steps;
}

/** The steps taken in the environment (the root prefix's acknowledgement and the reflection are not). */
export function environmentSteps(record: NativeRecord): ConversationStep[] {
  const steps = conversationSteps(record.revise_log);
  // The root prefix's assistant turn (the acknowledgement before the first observation) is no
  // action: it is the first assistant turn of every record and never trained.
  const firstActionTurn = rootPrefixLength(record);
  return steps.filter((step) => step.turn >= firstActionTurn && !step.reflection);
}

/**
 * Turns before the first action: the root prefix (system?, instruction, acknowledgement?, first
 * observation). It is the same in every log of a record; in `high_log` (the good path, every step
 * trained) it ends just before the first trained turn.
 */
export function rootPrefixLength(record: NativeRecord): number {
  const first = record.high_log.findIndex((m) => m.role === 'assistant' && m.loss === true);
  return first < 0 ? record.high_log.length : first;
}
