import { describe, expect, it } from 'vitest';
import { sharegptDatasetInfo, sharegptRecordSchema, toShareGPT } from '../../../shared/formats/sharegpt';
import { trlMessagesSchema, trlPromptCompletionSchema, toTrl } from '../../../shared/formats/trl';
import { rootPrefix } from '../revision/tree-builder';
import { expectedMask, generalExample, lateErrorRecord, sampleRecords } from './fixtures';

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const { revision, good } = sampleRecords();
const late = lateErrorRecord();

describe('sharegpt (LLaMA-Factory)', () => {
  it('per-turn: one record per trained turn, each ending with that turn as the last gpt turn', () => {
    for (const record of [revision, good, late]) {
      const trained = expectedMask(record.revise_log).filter((t) => t.trained);
      const out = toShareGPT(record).map((r) => sharegptRecordSchema.parse(roundTrip(r)));
      expect(out).toHaveLength(trained.length);
      out.forEach((r, i) => {
        const last = r.conversations.at(-1);
        expect(last).toEqual({ from: 'gpt', value: trained[i]?.content });
        expect(r.conversations.map((t) => t.from)).toEqual(
          r.conversations.map((_, j) => (j % 2 === 0 ? 'human' : 'gpt')),
        );
        expect(r.system).toBe(rootPrefix[0]?.content);
        // Every record is a prefix of the full conversation.
        const full = record.revise_log.slice(1);
        expect(r.conversations.map((t) => t.value)).toEqual(
          full.slice(0, r.conversations.length).map((m) => m.content),
        );
      });
    }
  });

  it('per-turn never ends a record on an untrained turn (the bad prefix stays masked with mask_history)', () => {
    const out = toShareGPT(late);
    expect(out.some((r) => r.conversations.at(-1)?.value.includes('b3'))).toBe(false);
    expect(out.some((r) => r.conversations.at(-1)?.value === 'Ok.')).toBe(false);
  });

  it('whole: one record with every turn (mask lost)', () => {
    const out = toShareGPT(late, 'whole');
    expect(out).toHaveLength(1);
    expect(out[0]?.conversations.filter((t) => t.from === 'gpt')).toHaveLength(
      expectedMask(late.revise_log).length,
    );
  });

  it('generates a dataset_info.json entry', () => {
    expect(sharegptDatasetInfo('agent_r', 'dataset.sharegpt.jsonl')).toEqual({
      agent_r: {
        file_name: 'dataset.sharegpt.jsonl',
        formatting: 'sharegpt',
        columns: { messages: 'conversations', system: 'system' },
        tags: { role_tag: 'from', content_tag: 'value', user_tag: 'human', assistant_tag: 'gpt' },
      },
    });
  });
});

describe('trl', () => {
  it("revision: prompt = prefix + bad steps to t' with observations; completion = reflection + good suffix", () => {
    for (const record of [revision, late]) {
      const out = trlPromptCompletionSchema.parse(roundTrip(toTrl(record)));
      const cut = record.first_error_step ?? 0;
      expect(out.prompt).toHaveLength(rootPrefix.length + 2 * cut);
      expect(out.prompt.at(-1)?.role).toBe('user');
      expect(out.completion[0]?.content).toMatch(/^Thought: .+\nAction: wait$/);
      expect(out.completion[1]).toEqual({ role: 'user', content: 'ok.' });
      expect(out.completion.at(-1)?.role).toBe('assistant');
      // Mask check: prompt assistants are exactly the untrained ones, completion assistants the trained ones.
      const mask = expectedMask(record.revise_log);
      expect(out.prompt.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(
        mask.filter((t) => !t.trained).map((t) => t.content),
      );
      expect(out.completion.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(
        mask.filter((t) => t.trained).map((t) => t.content),
      );
    }
  });

  it('good: prompt = root prefix, completion = the rest', () => {
    const out = trlPromptCompletionSchema.parse(roundTrip(toTrl(good)));
    expect(out.prompt).toEqual(rootPrefix);
    expect(out.completion.filter((m) => m.role === 'assistant')).toHaveLength(4);
  });

  it('general chat and messages mode', () => {
    const out = trlPromptCompletionSchema.parse(roundTrip(toTrl(generalExample())));
    expect(out.prompt.map((m) => m.role)).toEqual(['system', 'user']);
    const whole = trlMessagesSchema.parse(roundTrip(toTrl(revision, 'messages')));
    expect(whole.messages.at(-1)?.role).toBe('assistant');
    expect(whole.messages.every((m) => Object.keys(m).sort().join() === 'content,role')).toBe(true);
  });
});
