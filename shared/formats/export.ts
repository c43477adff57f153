import { z } from 'zod';
import { EXPORT_FORMATS } from '../contracts/statuses';
import type { NativeRecord } from '../revision/native-record';
import { toAgentGym } from './agentgym';
import { toNative } from './native';
import { toOpenAI } from './openai';
import { SHAREGPT_PER_TURN_NOTE, SHAREGPT_WHOLE_WARNING, toShareGPT } from './sharegpt';
import { asExample, type TrainingExample, trainedIndices } from './training-example';
import { TRL_COMPLETION_WARNING, TRL_MESSAGES_WARNING, toTrl } from './trl';
import { toXTuner } from './xtuner';

export const exportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof exportFormatSchema>;

export const exportOptionsSchema = z.object({
  sharegptMode: z.enum(['per-turn', 'whole']).default('per-turn'),
  trlMode: z.enum(['prompt-completion', 'messages']).default('prompt-completion'),
  agentgymSystem: z.enum(['merge', 'drop']).default('merge'),
});
export type ExportOptionsInput = z.input<typeof exportOptionsSchema>;
export type ExportOptions = z.output<typeof exportOptionsSchema>;

/**
 * The output objects (JSONL lines) for one record. Examples without a trained turn are left
 * out of every trainer format (they teach nothing); the native format keeps everything.
 */
export function formatRecord(
  input: NativeRecord | TrainingExample,
  format: ExportFormat,
  optionsInput: ExportOptionsInput = {},
): unknown[] {
  return formatWith(asExample(input), format, exportOptionsSchema.parse(optionsInput));
}

function formatWith(example: TrainingExample, format: ExportFormat, options: ExportOptions): unknown[] {
  if (format === 'native') return [toNative(example)];
  if (trainedIndices(example.messages).length === 0) return [];
  switch (format) {
    case 'openai':
      return [toOpenAI(example)];
    case 'xtuner':
      return [toXTuner(example)];
    case 'agentgym':
      return [toAgentGym(example, { system: options.agentgymSystem })];
    case 'sharegpt':
      return toShareGPT(example, options.sharegptMode);
    case 'trl': {
      const record = toTrl(example, options.trlMode);
      return record ? [record] : [];
    }
  }
}

/**
 * Streams records as JSONL: each yielded string is one JSON object plus '\n', ready to be
 * concatenated into a file or a response body. One record is in memory at a time.
 */
export async function* exportRecords(
  records: AsyncIterable<NativeRecord | TrainingExample> | Iterable<NativeRecord | TrainingExample>,
  format: ExportFormat,
  optionsInput: ExportOptionsInput = {},
): AsyncGenerator<string> {
  const options = exportOptionsSchema.parse(optionsInput);
  for await (const record of records) {
    for (const line of formatWith(asExample(record), format, options)) yield `${JSON.stringify(line)}\n`;
  }
}

/**
 * What a user of this format must know: how to keep the loss mask, or that this mode loses it.
 * Empty for formats that carry the mask per turn (native, openai, xtuner, agentgym).
 */
export function exportWarnings(format: ExportFormat, optionsInput: ExportOptionsInput = {}): string[] {
  const options = exportOptionsSchema.parse(optionsInput);
  if (format === 'sharegpt')
    return [options.sharegptMode === 'whole' ? SHAREGPT_WHOLE_WARNING : SHAREGPT_PER_TURN_NOTE];
  if (format === 'trl')
    return [options.trlMode === 'messages' ? TRL_MESSAGES_WARNING : TRL_COMPLETION_WARNING];
  return [];
}

/** True when the chosen mode cannot express which turns are trained. */
export function losesLossMask(format: ExportFormat, optionsInput: ExportOptionsInput = {}): boolean {
  const options = exportOptionsSchema.parse(optionsInput);
  return (
    (format === 'sharegpt' && options.sharegptMode === 'whole') ||
    (format === 'trl' && options.trlMode === 'messages')
  );
}

/** Conventional file name, e.g. `dataset.openai.jsonl`. */
export function exportFileName(format: ExportFormat, base = 'dataset'): string {
  return `${base}.${format}.jsonl`;
}
