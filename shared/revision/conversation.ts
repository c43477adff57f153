import { z } from 'zod';
import type { ChatMessage } from '../chat';
import type { TreeNode } from '../contracts/tree-file';

/** One turn of a training conversation; `loss` (assistant turns only) says whether it is trained. */
export const lossMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
  loss: z.boolean().optional(),
});
export type LossMessage = z.infer<typeof lossMessageSchema>;

/** The user turn after the reflection (reference code); it changes nothing in the environment. */
export const REVISION_ACK = 'ok.';

/** The reflection turn `rs`: a thought plus the no-op action `wait`, always trained. */
export function revisionTurn(sentence: string): LossMessage {
  return { role: 'assistant', content: `Thought: ${sentence}\nAction: wait`, loss: true };
}

/** True for the turns a trainer must learn from. */
export function isTrained(message: LossMessage): boolean {
  return message.role === 'assistant' && message.loss === true;
}

/**
 * Checks the root conversation: optional system, then user/assistant alternating from a user
 * turn, ending with the user turn that carries the first observation.
 */
export function assertRootPrefix(prefix: readonly ChatMessage[]): void {
  const body = prefix[0]?.role === 'system' ? prefix.slice(1) : prefix;
  if (body.length === 0) throw new Error('root prefix needs at least the first observation (a user turn)');
  body.forEach((message, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (message.role !== expected) {
      throw new Error(
        `root prefix turn ${i} is "${message.role}", expected "${expected}" (system?, user, assistant, ..., user)`,
      );
    }
  });
  if (body.length % 2 === 0) throw new Error('root prefix must end with a user turn (the first observation)');
}

/** The root prefix as training turns: its assistant turns (the acknowledgement) are never trained. */
export function rootPrefixTurns(prefix: readonly ChatMessage[]): LossMessage[] {
  assertRootPrefix(prefix);
  return prefix.map((m) =>
    m.role === 'assistant' ? { role: m.role, content: m.content, loss: false } : { ...m },
  );
}

/** One step as two turns: the policy's full response, then the environment's observation. */
export function stepTurns(node: TreeNode, loss: boolean): [LossMessage, LossMessage] {
  return [
    { role: 'assistant', content: node.response, loss },
    { role: 'user', content: node.observation },
  ];
}
