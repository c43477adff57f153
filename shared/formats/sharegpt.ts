import { z } from 'zod';
import type { NativeRecord } from '../revision/native-record';
import { asExample, type TrainingExample, trainedIndices, trimTrailingTurns } from './training-example';
import { alternateTurns, splitSystem } from './turns';

/**
 * LLaMA-Factory `sharegpt`. The format has no per-turn loss, so the Agent-R mask is kept this
 * way ('per-turn', default): one record per trained assistant turn, holding the conversation
 * up to and including that turn, so the trained turn is always the last gpt turn; train with
 * `mask_history: true` (only the last turn is learnt) and `train_on_prompt: false`.
 * Cost: a conversation with n trained turns becomes n records with growing history.
 * 'whole' writes each conversation once; LLaMA-Factory then trains every gpt turn,
 * bad prefix included: the mask is lost (see SHAREGPT_WHOLE_WARNING).
 */
export const sharegptTurnSchema = z.object({ from: z.enum(['human', 'gpt']), value: z.string() });
export const sharegptRecordSchema = z.object({
  conversations: z.array(sharegptTurnSchema).min(2),
  system: z.string().optional(),
});
export type ShareGPTRecord = z.infer<typeof sharegptRecordSchema>;

export type ShareGPTMode = 'per-turn' | 'whole';

/** The LLaMA-Factory training arguments the per-turn records rely on. */
export const sharegptTrainingArgs = { mask_history: true, train_on_prompt: false } as const;

export const SHAREGPT_PER_TURN_NOTE =
  'sharegpt (LLaMA-Factory) has no per-turn loss: every trained assistant turn is its own record ending at that turn. ' +
  'Train with mask_history: true and train_on_prompt: false, or the bad prefix and the acknowledgement get trained.';

export const SHAREGPT_WHOLE_WARNING =
  'sharegpt mode "whole" loses the Agent-R loss mask: LLaMA-Factory trains every gpt turn, including the bad steps ' +
  'before the reflection. Use mode "per-turn" with mask_history: true to keep the mask.';

export function toShareGPT(
  input: NativeRecord | TrainingExample,
  mode: ShareGPTMode = 'per-turn',
): ShareGPTRecord[] {
  const { system, rest } = splitSystem(trimTrailingTurns(asExample(input).messages));
  const turns = alternateTurns(rest);
  const record = (upTo: number): ShareGPTRecord => ({
    conversations: turns.slice(0, upTo + 1).map((m) => ({
      from: m.role === 'assistant' ? ('gpt' as const) : ('human' as const),
      value: m.content,
    })),
    ...(system === undefined ? {} : { system }),
  });
  if (turns.length < 2) return [];
  if (mode === 'whole') return [record(turns.length - 1)];
  return trainedIndices(turns).map(record);
}

/** The `dataset_info.json` entry that registers an exported file with LLaMA-Factory. */
export function sharegptDatasetInfo(name: string, fileName: string): Record<string, unknown> {
  return {
    [name]: {
      file_name: fileName,
      formatting: 'sharegpt',
      columns: { messages: 'conversations', system: 'system' },
      tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt' },
    },
  };
}
