import { describe, expect, it } from 'vitest';
import { agentgymRecordSchema, toAgentGym } from '../../../shared/formats/agentgym';
import { exportRecords, exportWarnings, formatRecord, losesLossMask } from '../../../shared/formats/export';
import { nativeLineSchema, nativeLineToExample, toNative } from '../../../shared/formats/native';
import { openaiRecordSchema, toOpenAI } from '../../../shared/formats/openai';
import { exampleFromNative } from '../../../shared/formats/training-example';
import { toXTuner, xtunerRecordSchema } from '../../../shared/formats/xtuner';
import type { NativeRecord } from '../../../shared/revision/native-record';
import { rootPrefix } from '../revision/tree-builder';
import { expectedMask, generalExample, lateErrorRecord, sampleRecords } from './fixtures';

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const { revision, good } = sampleRecords();
const late = lateErrorRecord();
const agentRecords: NativeRecord[] = [revision, good, late];

describe('fixtures', () => {
  it('cover a cut inside the shared prefix and one after the branch point', () => {
    expect([revision.first_error_step, revision.branch_step]).toEqual([2, 3]);
    expect([late.first_error_step, late.branch_step]).toEqual([3, 3]);
  });
});

describe('native', () => {
  it('writes the record unchanged; general examples as {id, kind, revise_log}', () => {
    for (const record of agentRecords)
      expect(nativeLineSchema.parse(roundTrip(toNative(record)))).toEqual(record);
    const general = generalExample();
    expect(nativeLineSchema.parse(roundTrip(toNative(general)))).toEqual({
      id: general.id,
      kind: 'general',
      revise_log: general.messages,
    });
  });

  it('reads a stored native line back into the example every other format is written from', () => {
    for (const input of [...agentRecords, generalExample()]) {
      const back = nativeLineToExample(nativeLineSchema.parse(roundTrip(toNative(input))));
      for (const format of ['openai', 'xtuner', 'agentgym', 'sharegpt', 'trl', 'native'] as const)
        expect(formatRecord(back, format)).toEqual(formatRecord(input, format));
    }
  });
});

describe('openai', () => {
  it('puts weight 1 on exactly the trained assistant turns and 0 on the others', () => {
    for (const record of [...agentRecords, generalExample()]) {
      const messages = 'revise_log' in record ? record.revise_log : record.messages;
      const parsed = openaiRecordSchema.parse(roundTrip(toOpenAI(record)));
      const assistants = parsed.messages.filter((m) => m.role === 'assistant');
      expect(assistants.map((m) => ({ content: m.content, trained: m.weight === 1 }))).toEqual(
        expectedMask(messages),
      );
      expect(assistants.every((m) => m.weight === 0 || m.weight === 1)).toBe(true);
      expect(parsed.messages.filter((m) => m.role !== 'assistant').every((m) => m.weight === undefined)).toBe(
        true,
      );
      expect(parsed.messages.at(-1)?.role).toBe('assistant');
    }
  });

  it('keeps the prefix turns: system, instruction, acknowledgement, first observation', () => {
    const parsed = openaiRecordSchema.parse(roundTrip(toOpenAI(revision)));
    expect(parsed.messages.slice(0, 4)).toEqual([
      { role: 'system', content: rootPrefix[0]?.content },
      { role: 'user', content: rootPrefix[1]?.content },
      { role: 'assistant', content: 'Ok.', weight: 0 },
      { role: 'user', content: rootPrefix[3]?.content },
    ]);
  });
});

describe('xtuner', () => {
  it('pairs each user turn with the next assistant turn and flags output_with_loss', () => {
    for (const record of agentRecords) {
      const parsed = xtunerRecordSchema.parse(roundTrip(toXTuner(record)));
      expect(parsed.conversation.map((t) => ({ content: t.output, trained: t.output_with_loss }))).toEqual(
        expectedMask(record.revise_log),
      );
      expect(parsed.conversation[0]?.system).toBe(rootPrefix[0]?.content);
      expect(parsed.conversation.slice(1).every((t) => t.system === undefined)).toBe(true);
      expect(parsed.conversation[0]?.input).toBe(rootPrefix[1]?.content);
      expect(parsed.conversation[1]?.input).toBe(rootPrefix[3]?.content);
    }
  });

  it('never trains the bad prefix (the released converter dropped this flag)', () => {
    const parsed = xtunerRecordSchema.parse(roundTrip(toXTuner(late)));
    const trained = parsed.conversation.filter((t) => t.output_with_loss).map((t) => t.output);
    expect(trained[0]).toMatch(/Action: wait$/);
    expect(trained.some((o) => o.includes('b3'))).toBe(false);
    expect(parsed.conversation.find((t) => t.output.includes('b3'))?.output_with_loss).toBe(false);
  });
});

describe('agentgym', () => {
  it('uses loss null on human turns, true/false on gpt turns and item_id <env>_<task>', () => {
    for (const record of agentRecords) {
      const parsed = agentgymRecordSchema.parse(roundTrip(toAgentGym(record)));
      expect(parsed.item_id).toBe('textcraft_3');
      expect(parsed.conversations.filter((t) => t.from === 'human').every((t) => t.loss === null)).toBe(true);
      expect(
        parsed.conversations
          .filter((t) => t.from === 'gpt')
          .map((t) => ({ content: t.value, trained: t.loss === true })),
      ).toEqual(expectedMask(record.revise_log));
      expect(parsed.conversations.map((t) => t.from)).toEqual(
        parsed.conversations.map((_, i) => (i % 2 === 0 ? 'human' : 'gpt')),
      );
    }
  });

  it('merges the system prompt into the first human turn, or drops it', () => {
    const merged = toAgentGym(revision);
    expect(merged.conversations[0]?.value).toBe(`${rootPrefix[0]?.content}\n\n${rootPrefix[1]?.content}`);
    expect(toAgentGym(revision, { system: 'drop' }).conversations[0]?.value).toBe(rootPrefix[1]?.content);
    expect(toAgentGym(generalExample()).item_id).toMatch(/^general_/);
  });
});

describe('exportRecords', () => {
  it('streams one JSON line per output record, for every format', async () => {
    async function* source() {
      yield revision;
      yield exampleFromNative(good);
      yield generalExample();
    }
    for (const format of ['native', 'openai', 'xtuner', 'agentgym', 'sharegpt', 'trl'] as const) {
      const lines: string[] = [];
      for await (const line of exportRecords(source(), format)) lines.push(line);
      expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
      const expected = [revision, good, generalExample()].flatMap((r) => formatRecord(r, format));
      expect(lines.map((l) => JSON.parse(l))).toEqual(roundTrip(expected));
    }
  });

  it('leaves out examples with nothing to train, except in the native format', () => {
    const untrained = { ...generalExample(), messages: [{ role: 'user' as const, content: 'hi' }] };
    expect(formatRecord(untrained, 'openai')).toEqual([]);
    expect(formatRecord(untrained, 'native')).toHaveLength(1);
  });

  it('warns exactly for the modes that need care or lose the mask', () => {
    for (const format of ['native', 'openai', 'xtuner', 'agentgym'] as const) {
      expect(exportWarnings(format)).toEqual([]);
      expect(losesLossMask(format)).toBe(false);
    }
    expect(exportWarnings('sharegpt')[0]).toMatch(/mask_history: true/);
    expect(exportWarnings('sharegpt', { sharegptMode: 'whole' })[0]).toMatch(/loses the Agent-R loss mask/);
    expect(losesLossMask('sharegpt', { sharegptMode: 'whole' })).toBe(true);
    expect(exportWarnings('trl')[0]).toMatch(/assistant_only_loss/);
    expect(exportWarnings('trl', { trlMode: 'messages' })[0]).toMatch(/loses the Agent-R loss mask/);
    expect(losesLossMask('trl', { trlMode: 'messages' })).toBe(true);
  });
});
