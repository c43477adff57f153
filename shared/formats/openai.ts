import { z } from 'zod';
import type { NativeRecord } from '../revision/native-record';
import { asExample, type TrainingExample, trimTrailingTurns } from './training-example';

/**
 * OpenAI chat fine-tuning JSONL: `weight` (0 or 1) on assistant messages carries the mask:
 * 1 on the reflection turn and the good suffix, 0 on the acknowledgement and the bad prefix.
 * System and user messages carry no weight (they are never trained).
 */
export const openaiMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
  weight: z.union([z.literal(0), z.literal(1)]).optional(),
});
export const openaiRecordSchema = z.object({ messages: z.array(openaiMessageSchema).min(1) });
export type OpenAIRecord = z.infer<typeof openaiRecordSchema>;

export function toOpenAI(input: NativeRecord | TrainingExample): OpenAIRecord {
  const messages = trimTrailingTurns(asExample(input).messages);
  return {
    messages: messages.map((m) =>
      m.role === 'assistant'
        ? { role: m.role, content: m.content, weight: m.loss === true ? 1 : 0 }
        : { role: m.role, content: m.content },
    ),
  };
}
