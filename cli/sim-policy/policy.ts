import type { ChatMessage } from '../../shared/chat';
import { createRng, hashToSeed } from '../../shared/random';
import { parseVerifierPrompt } from '../../shared/prompts/verifier';
import { craftingResponse } from './crafting-policy';
import { readCraftingConversation } from './crafting-text';
import { judgeResponse } from './judge';
import type { MistakeKind } from './mistakes';
import { formatResponse } from './wording';

export interface PolicyConfig {
  /** Mistake probability per step at temperature 1 (it scales linearly with temperature). */
  errorRate: number;
  /** Mistake probability at temperature 0 (greedy decoding); 0 = a perfect expert. */
  errorRateAtZero: number;
  mistakes: readonly MistakeKind[];
  judgeAccuracy: number;
}

export type ConversationKind = 'policy' | 'judge' | 'other';

export interface Completion {
  text: string;
  kind: ConversationKind;
}

/** The mistake probability used at a given temperature. */
export function effectiveErrorRate(config: PolicyConfig, temperature: number): number {
  const rate =
    config.errorRateAtZero + (config.errorRate - config.errorRateAtZero) * Math.max(0, temperature);
  return Math.min(0.95, Math.max(0, rate));
}

/**
 * Completion number `choice` for a conversation; `seed` fixes the draw (the server derives it from
 * its own seed and the request body), so the same request always gets the same answer.
 */
export function complete(
  messages: ChatMessage[],
  temperature: number,
  seed: number,
  choice: number,
  config: PolicyConfig,
): Completion {
  const random = createRng(hashToSeed(seed, choice)).next;
  const wording = temperature > 0 ? createRng(hashToSeed(seed, choice, 'wording')).next : () => 0;

  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const verifier = lastUser ? parseVerifierPrompt(lastUser.content) : null;
  if (verifier) {
    return { kind: 'judge', text: judgeResponse(verifier, { accuracy: config.judgeAccuracy, random }).text };
  }

  const conversation = readCraftingConversation(messages);
  if (conversation) {
    const errorRate = effectiveErrorRate(config, temperature);
    return {
      kind: 'policy',
      text: craftingResponse(conversation, { errorRate, mistakes: config.mistakes, random, wording }).text,
    };
  }

  // Not a crafting task: sim-policy only plays TextCraft-style conversations.
  return {
    kind: 'other',
    text: formatResponse('I do not recognise this task, so I will look at my inventory first.', 'inventory'),
  };
}
