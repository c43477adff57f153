import { z } from 'zod';
import { lossMessageSchema } from '../revision/conversation';
import { type NativeRecord, nativeRecordSchema } from '../revision/native-record';
import { asExample, type TrainingExample } from './training-example';

/**
 * Native JSONL: agent records exactly as stored (the reference's fields plus ours). General
 * chat examples, which have no native record, are written as `{id, kind: 'general', revise_log}`
 * so the conversation sits under the same key.
 */
export const generalNativeSchema = z.object({
  id: z.string(),
  kind: z.literal('general'),
  revise_log: z.array(lossMessageSchema),
});
export const nativeLineSchema = z.union([nativeRecordSchema, generalNativeSchema]);
export type NativeLine = z.infer<typeof nativeLineSchema>;

export function toNative(input: NativeRecord | TrainingExample): NativeLine {
  const example = asExample(input);
  if (example.native) return example.native;
  if (example.kind !== 'general')
    throw new Error(`example ${example.id} (${example.kind}) lost its native record`);
  return { id: example.id, kind: 'general', revise_log: example.messages };
}

/**
 * The training example of a native JSONL line (the inverse of toNative): agent records keep their
 * native record, general lines become general examples. Lets a stored native dataset be served
 * in any export format.
 */
export function nativeLineToExample(line: NativeLine): TrainingExample {
  if (line.kind !== 'general') return asExample(line);
  return { id: line.id, kind: 'general', messages: line.revise_log };
}
