import { z } from 'zod';
import type { NativeRecord } from '../revision/native-record';
import { asExample, type TrainingExample, trimTrailingTurns } from './training-example';
import { alternateTurns, splitSystem } from './turns';

/**
 * AgentGym / AgentTraj-L: `loss` null on human turns, true/false on gpt turns. AgentGym has no
 * system turn: by default a system prompt is prepended to the first human turn ('merge'), or
 * left out ('drop'). `item_id` is `<env>_<task>` (general chat: `general_<id>`).
 */
export const agentgymTurnSchema = z.object({
  from: z.enum(['human', 'gpt']),
  loss: z.boolean().nullable(),
  value: z.string(),
});
export const agentgymRecordSchema = z.object({
  item_id: z.string(),
  conversations: z.array(agentgymTurnSchema).min(1),
});
export type AgentGymRecord = z.infer<typeof agentgymRecordSchema>;

export interface AgentGymOptions {
  system?: 'merge' | 'drop';
}

export function toAgentGym(
  input: NativeRecord | TrainingExample,
  options: AgentGymOptions = {},
): AgentGymRecord {
  const example = asExample(input);
  const { system, rest } = splitSystem(trimTrailingTurns(example.messages));
  const turns = alternateTurns(rest);
  const first = turns[0];
  if (system !== undefined && options.system !== 'drop' && first) {
    turns[0] = { ...first, content: first.content ? `${system}\n\n${first.content}` : system };
  }
  const itemId =
    example.kind === 'general' ? `general_${example.id}` : `${example.env ?? 'agent'}_${example.task ?? 0}`;
  return {
    item_id: itemId,
    conversations: turns.map((m) =>
      m.role === 'assistant'
        ? { from: 'gpt', loss: m.loss === true, value: m.content }
        : { from: 'human', loss: null, value: m.content },
    ),
  };
}
