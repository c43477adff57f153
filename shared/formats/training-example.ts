import { z } from 'zod';
import { isTrained, type LossMessage, lossMessageSchema } from '../revision/conversation';
import { type NativeRecord, nativeRecordSchema } from '../revision/native-record';

/**
 * The one shape every exporter reads: a conversation whose assistant turns say whether they
 * are trained. Agent data comes from native records (the record rides along for the native
 * format); user-supplied general chat data has no native record.
 */
export const trainingExampleSchema = z.object({
  id: z.string(),
  kind: z.enum(['revision', 'good', 'general']),
  env: z.string().optional(),
  task: z.number().int().nonnegative().optional(),
  messages: z.array(lossMessageSchema),
  native: nativeRecordSchema.optional(),
});
export type TrainingExample = z.infer<typeof trainingExampleSchema>;

export function exampleFromNative(record: NativeRecord): TrainingExample {
  return {
    id: record.id,
    kind: record.kind,
    ...(record.env === undefined ? {} : { env: record.env }),
    task: record.task,
    messages: record.revise_log,
    native: record,
  };
}

/** Accepts either shape; native records are recognised by their `revise_log`. */
export function asExample(input: NativeRecord | TrainingExample): TrainingExample {
  return 'revise_log' in input ? exampleFromNative(input) : input;
}

/**
 * Drops the turns after the last assistant turn (the final observation): they carry no loss,
 * and several trainers expect a conversation to end with the assistant.
 */
export function trimTrailingTurns(messages: readonly LossMessage[]): LossMessage[] {
  let end = messages.length;
  while (end > 0 && messages[end - 1]?.role !== 'assistant') end--;
  return messages.slice(0, end);
}

/** Index of every trained assistant turn. */
export function trainedIndices(messages: readonly LossMessage[]): number[] {
  const out: number[] = [];
  messages.forEach((m, i) => {
    if (isTrained(m)) out.push(i);
  });
  return out;
}
