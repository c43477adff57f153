import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentgymRecordSchema } from '../../../shared/formats/agentgym';
import { type ExportOptionsInput, exportRecords, losesLossMask } from '../../../shared/formats/export';
import { generalChatToExample } from '../../../shared/formats/general-chat';
import { nativeLineSchema } from '../../../shared/formats/native';
import { openaiRecordSchema } from '../../../shared/formats/openai';
import { sharegptRecordSchema } from '../../../shared/formats/sharegpt';
import { asExample, type TrainingExample } from '../../../shared/formats/training-example';
import { trlMessagesSchema, trlPromptCompletionSchema } from '../../../shared/formats/trl';
import { xtunerRecordSchema } from '../../../shared/formats/xtuner';
import type { NativeRecord } from '../../../shared/revision/native-record';
import { craftingRecords } from '../curation/fixture';
import { lateErrorRecord, sampleRecords } from './fixtures';

// For every export format: write a record through exportRecords (the code every export and
// dataset uses), parse the JSONL back with the format's schema, and read off the assistant turns
// a trainer trains with the settings the README gives for that format. Those must be exactly the
// native record's `loss: true` turns; where a mode cannot express that, the README must say
// which turns it trains besides.

type Decoder = (lines: unknown[]) => string[];

const decoders: Record<
  string,
  { options: ExportOptionsInput; format: Parameters<typeof exportRecords>[1]; decode: Decoder }
> = {
  native: {
    format: 'native',
    options: {},
    decode: (lines) =>
      lines.flatMap((l) =>
        nativeLineSchema
          .parse(l)
          .revise_log.filter((m) => m.role === 'assistant' && m.loss === true)
          .map((m) => m.content),
      ),
  },
  openai: {
    format: 'openai',
    options: {},
    decode: (lines) =>
      lines.flatMap((l) =>
        openaiRecordSchema
          .parse(l)
          .messages.filter((m) => m.role === 'assistant' && m.weight === 1)
          .map((m) => m.content),
      ),
  },
  xtuner: {
    format: 'xtuner',
    options: {},
    decode: (lines) =>
      lines.flatMap((l) =>
        xtunerRecordSchema
          .parse(l)
          .conversation.filter((t) => t.output_with_loss)
          .map((t) => t.output),
      ),
  },
  agentgym: {
    format: 'agentgym',
    options: {},
    decode: (lines) =>
      lines.flatMap((l) =>
        agentgymRecordSchema
          .parse(l)
          .conversations.filter((t) => t.from === 'gpt' && t.loss === true)
          .map((t) => t.value),
      ),
  },
  // LLaMA-Factory with mask_history: true trains the last gpt turn of each record only.
  'sharegpt per-turn': {
    format: 'sharegpt',
    options: { sharegptMode: 'per-turn' },
    decode: (lines) =>
      lines.map(
        (l) =>
          sharegptRecordSchema
            .parse(l)
            .conversations.filter((t) => t.from === 'gpt')
            .at(-1)!.value,
      ),
  },
  // LLaMA-Factory trains every gpt turn of a record.
  'sharegpt whole': {
    format: 'sharegpt',
    options: { sharegptMode: 'whole' },
    decode: (lines) =>
      lines.flatMap((l) =>
        sharegptRecordSchema
          .parse(l)
          .conversations.filter((t) => t.from === 'gpt')
          .map((t) => t.value),
      ),
  },
  // TRL with completion_only_loss and assistant_only_loss: the assistant turns of the completion.
  'trl prompt-completion': {
    format: 'trl',
    options: { trlMode: 'prompt-completion' },
    decode: (lines) =>
      lines.flatMap((l) =>
        trlPromptCompletionSchema
          .parse(l)
          .completion.filter((m) => m.role === 'assistant')
          .map((m) => m.content),
      ),
  },
  // TRL with assistant_only_loss: every assistant turn.
  'trl messages': {
    format: 'trl',
    options: { trlMode: 'messages' },
    decode: (lines) =>
      lines.flatMap((l) =>
        trlMessagesSchema
          .parse(l)
          .messages.filter((m) => m.role === 'assistant')
          .map((m) => m.content),
      ),
  },
};

async function exportedLines(example: NativeRecord | TrainingExample, name: string): Promise<unknown[]> {
  const { format, options } = decoders[name]!;
  const lines: unknown[] = [];
  for await (const line of exportRecords([example], format, options)) lines.push(JSON.parse(line));
  return lines;
}

const nativeTrained = (example: NativeRecord | TrainingExample) =>
  asExample(example)
    .messages.filter((m) => m.role === 'assistant' && m.loss === true)
    .map((m) => m.content);
const nativeUntrained = (example: NativeRecord | TrainingExample) =>
  asExample(example)
    .messages.filter((m) => m.role === 'assistant' && m.loss !== true)
    .map((m) => m.content);

/** A general chat example whose middle answer is not trained (weight 0). */
const generalWithUntrainedMiddle = generalChatToExample({
  messages: [
    { role: 'user', content: 'Capital of France?' },
    { role: 'assistant', content: 'Paris.' },
    { role: 'user', content: 'Spell it backwards.' },
    { role: 'assistant', content: 'I will not.', weight: 0 },
    { role: 'user', content: 'Please.' },
    { role: 'assistant', content: 'sirap' },
  ],
});

const crafting = craftingRecords();
const examples: [string, NativeRecord | TrainingExample][] = [
  ['revision, cut inside the shared prefix', sampleRecords().revision],
  ['revision, cut after the branch point', lateErrorRecord()],
  ['good record', sampleRecords().good],
  ...crafting.revision.map((r, i): [string, NativeRecord] => [`crafting revision ${i}`, r]),
  ['crafting good record with a loop', crafting.good[1]!],
  ['general chat with an untrained middle answer', generalWithUntrainedMiddle],
];

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('each export keeps exactly the native loss mask, or the README says what it loses', () => {
  for (const name of Object.keys(decoders)) {
    const { format, options } = decoders[name]!;
    const lossy = losesLossMask(format, options);
    for (const [label, example] of examples) {
      it(`${name}: ${label}`, async () => {
        const trained = decoders[name]!.decode(await exportedLines(example, name));
        const expected = nativeTrained(example);
        if (!lossy && !(name === 'trl prompt-completion' && label.startsWith('general'))) {
          expect(trained).toEqual(expected);
          return;
        }
        // What the mode trains besides: untrained assistant turns of the record, nothing else.
        const extra = [...trained];
        for (const content of expected) extra.splice(extra.indexOf(content), 1);
        expect(trained.length).toBeGreaterThanOrEqual(expected.length);
        for (const content of extra) expect(nativeUntrained(example)).toContain(content);
        expect(extra.length).toBeGreaterThan(0);
      });
    }
  }

  it('the README names what each lossy mode trains besides the masked turns', () => {
    const at = readme.indexOf('### The loss mask in each export format');
    expect(at).toBeGreaterThanOrEqual(0);
    const section = readme.slice(at);
    expect(section).toMatch(/`sharegpt` `whole`[^\n]*every gpt turn[^\n]*bad steps/);
    expect(section).toMatch(/`trl` `messages`[^\n]*every assistant turn[^\n]*bad steps/);
    expect(section).toMatch(
      /`trl` `prompt-completion`[^\n]*untrained assistant turn after the first trained one/,
    );
  });
});
