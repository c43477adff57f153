import { z } from 'zod';
import type { NativeRecord } from '../revision/native-record';
import { asExample, type TrainingExample, trimTrailingTurns } from './training-example';
import { alternateTurns, splitSystem } from './turns';

/**
 * XTuner's multi-turn format: each user turn paired with the next assistant turn;
 * `output_with_loss: false` on the acknowledgement and bad-prefix outputs (the released
 * Agent-R converter dropped this flag, so bad actions got trained; we always write it).
 * The system prompt rides on the first item, as XTuner expects.
 */
export const xtunerTurnSchema = z.object({
  system: z.string().optional(),
  input: z.string(),
  output: z.string(),
  output_with_loss: z.boolean(),
});
export const xtunerRecordSchema = z.object({ conversation: z.array(xtunerTurnSchema).min(1) });
export type XTunerRecord = z.infer<typeof xtunerRecordSchema>;

export function toXTuner(input: NativeRecord | TrainingExample): XTunerRecord {
  const { system, rest } = splitSystem(trimTrailingTurns(asExample(input).messages));
  const turns = alternateTurns(rest);
  const conversation: XTunerRecord['conversation'] = [];
  for (let i = 0; i + 1 < turns.length; i += 2) {
    const user = turns[i];
    const assistant = turns[i + 1];
    if (!user || !assistant) break;
    conversation.push({
      ...(conversation.length === 0 && system !== undefined ? { system } : {}),
      input: user.content,
      output: assistant.content,
      output_with_loss: assistant.loss === true,
    });
  }
  return { conversation };
}
