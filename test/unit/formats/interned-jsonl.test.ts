import { describe, expect, it } from 'vitest';
import {
  createInternedJsonlReader,
  createInternedJsonlWriter,
  toInternedJsonl,
} from '../../../shared/formats/interned-jsonl';
import { parseJsonl } from '../../../shared/formats/jsonl';
import { createRng } from '../../../shared/random';
import { nativeRecordSchema, spliceTask } from '../../../shared/revision';
import { randomTree, rootPrefix } from '../revision/tree-builder';

/** Writes `values` as interned JSONL and reads them back, as R2's readers do. */
async function roundTrip(values: readonly unknown[]): Promise<unknown[]> {
  const out: unknown[] = [];
  const reader = createInternedJsonlReader();
  for await (const value of parseJsonl(toInternedJsonl(values).split(/(?<=\n)/), undefined, reader.value))
    out.push(value);
  return out;
}

/** What JSON makes of a value (undefined dropped, -0 and NaN normalised). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

const long = (text: string) => `${text} ${'x'.repeat(40)}`;

describe('interned JSONL', () => {
  it('reads back exactly what JSON would, for awkward values', async () => {
    const values = [
      { a: long('same'), b: long('same'), c: [long('same'), 'short', '', null, true, 0, -0, 1.5e-7] },
      { text: '\u0000looks like a reference', other: '\u0000\u0000two marks', [long('\u0000key')]: 1 },
      { nested: { deeper: { role: 'user', content: long('same') } }, list: [[long('same')], []] },
      { undef: undefined, fn: () => 1, nan: Number.NaN, inf: Number.POSITIVE_INFINITY, arr: [undefined] },
      { unicode: long('\ud83d\ude00 caf\u00e9 \ud800 lone'), quote: long('"\\\n\t\u001f') },
      { date: new Date(0), message: { role: 'assistant', content: long('same'), loss: true } },
      { message: { role: 'assistant', content: long('same'), loss: true } },
      'a string line',
      [1, 2, long('same')],
      null,
    ];
    expect(await roundTrip(values)).toEqual(values.map(asJson));
  });

  it('writes a repeated value once and refers to it afterwards', () => {
    const message = { role: 'user', content: long('observation') };
    const writer = createInternedJsonlWriter();
    const first = writer.line({ log: [message, message] });
    const second = writer.line({ log: [message] });
    expect(first.split(long('observation')).length - 1).toBe(1);
    expect(second).not.toContain('observation');
    expect(second.length).toBeLessThan(40);
  });

  it('gives every record its own copies of shared objects', async () => {
    const message = { role: 'user', content: long('shared') };
    const [a, b] = (await roundTrip([{ log: [message] }, { log: [message] }])) as {
      log: { content: string }[];
    }[];
    a!.log[0]!.content = 'changed';
    expect(b!.log[0]!.content).toBe(long('shared'));
  });

  it('reads plain JSONL lines (files written before interning) as they are', async () => {
    const reader = createInternedJsonlReader();
    const lines = ['{"a":1}\n', '{"b":"\\u0000x"}\n'];
    const out: unknown[] = [];
    for await (const value of parseJsonl(lines, undefined, reader.value)) out.push(value);
    expect(out).toEqual([{ a: 1 }, { b: '\u0000x' }]);
  });

  it('rejects a reference to nothing and a malformed line, naming the line', async () => {
    const bad = async (text: string) => {
      const reader = createInternedJsonlReader();
      for await (const _ of parseJsonl([text], undefined, reader.value)) {
        // drain
      }
    };
    await expect(bad('[[],{"a":"\\u00007"}]\n')).rejects.toThrow(
      /line 1 cannot be decoded: .*unknown reference 7/,
    );
    await expect(bad('[[],{}]\n[1,2,3]\n')).rejects.toThrow(/line 2 cannot be decoded/);
  });

  it('round-trips real training records, at a fraction of their plain size', async () => {
    const rng = createRng(7);
    let plain = 0;
    let interned = 0;
    let records = 0;
    for (let t = 0; t < 12; t++) {
      const tree = randomTree(rng, t);
      const result = spliceTask(
        tree,
        { runId: 'interned', rootPrefix },
        { alpha: 0.5, beta: 0.2, seed: t, unjudged: 'uncertain' },
      );
      const all = [...result.revision, ...result.good];
      const back = await roundTrip(all);
      expect(back.map((r) => nativeRecordSchema.parse(r))).toEqual(all.map(asJson));
      plain += all.map((r) => JSON.stringify(r).length + 1).reduce((a, b) => a + b, 0);
      interned += toInternedJsonl(all).length;
      records += all.length;
    }
    expect(records).toBeGreaterThan(50);
    expect(interned).toBeLessThan(plain / 2);
  });
});
