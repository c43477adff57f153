import { describe, expect, it } from 'vitest';
import {
  assembleDataset,
  contentHash,
  type DatasetSource,
  generalChatSource,
} from '../../../shared/formats/assemble';
import type { TrainingExample } from '../../../shared/formats/training-example';

function agentExample(i: number, env = 'textcraft', text = `answer ${i}`): TrainingExample {
  return {
    id: `${env}-${i}`,
    kind: i % 3 === 0 ? 'good' : 'revision',
    env,
    task: i,
    messages: [
      { role: 'user', content: `${env} task ${i}` },
      { role: 'assistant', content: text, loss: true },
    ],
  };
}

function agentSource(name: string, items: TrainingExample[]): DatasetSource & { opens: number } {
  const source = {
    name,
    role: 'agent' as const,
    opens: 0,
    open() {
      source.opens++;
      return items;
    },
  };
  return source;
}

const generalRaw = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    messages: [
      { role: 'user', content: `chat ${i}` },
      { role: 'assistant', content: `reply ${i}` },
    ],
  }));

async function ids(items: AsyncIterable<TrainingExample>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of items) out.push(item.id);
  return out;
}

describe('assembleDataset', () => {
  it('counts eta in tokens when asked: general tokens reach agent tokens x (1 - eta) / eta', async () => {
    // Agent examples are long (400 characters = 100 tokens of answer), general ones short.
    const long = Array.from({ length: 10 }, (_, i) => agentExample(i, 'textcraft', 'x'.repeat(400)));
    const sources = [agentSource('textcraft', long), generalChatSource('chat', () => generalRaw(2000))];
    const tokensOf = (e: TrainingExample) =>
      e.messages.reduce((sum, m) => sum + Math.ceil(m.content.length / 4), 0);
    const agentTokens = long.reduce((sum, e) => sum + tokensOf(e), 0);
    const byTokens = await assembleDataset(sources, { eta: 0.2, etaBasis: 'tokens', seed: 1 });
    let generalTokens = 0;
    let lastGeneral = 0;
    for await (const e of byTokens.train())
      if (e.kind === 'general') {
        generalTokens += tokensOf(e);
        lastGeneral = tokensOf(e);
      }
    expect(generalTokens).toBeGreaterThanOrEqual(agentTokens * 4);
    expect(generalTokens - lastGeneral).toBeLessThan(agentTokens * 4);
    expect(byTokens.stats.achievedEta).toBeCloseTo(agentTokens / (agentTokens + generalTokens), 10);
    expect(byTokens.stats.achievedEta).toBeCloseTo(0.2, 2);
    // Counted in records the same data takes 40 general examples, far fewer tokens.
    const byRecords = await assembleDataset(sources, { eta: 0.2, seed: 1 });
    expect(byRecords.stats.general).toBe(40);
    expect(byTokens.stats.general).toBeGreaterThan(byRecords.stats.general);
  });

  it('mixes general chat so agent data is a fraction eta of the whole', async () => {
    const sources = [
      agentSource(
        'textcraft',
        Array.from({ length: 25 }, (_, i) => agentExample(i)),
      ),
      agentSource(
        'webshop',
        Array.from({ length: 15 }, (_, i) => agentExample(i, 'webshop')),
      ),
      generalChatSource('sharegpt', () => generalRaw(500)),
    ];
    const mixed = await assembleDataset(sources, { eta: 0.2, seed: 1 });
    expect(mixed.stats).toMatchObject({
      general: 160,
      generalAvailable: 500,
      train: 200,
      validation: 0,
      achievedEta: 0.2,
    });
    expect(mixed.stats.revision + mixed.stats.good).toBe(40);
    const all = [];
    for await (const item of mixed.train()) all.push(item);
    expect(all.filter((e) => e.kind === 'general')).toHaveLength(160);
    expect(new Set(all.map((e) => e.env).filter(Boolean))).toEqual(new Set(['textcraft', 'webshop']));

    const agentOnly = await assembleDataset(sources, { eta: 1 });
    expect(agentOnly.stats.general).toBe(0);
    const short = await assembleDataset(
      [sources[0] as DatasetSource, generalChatSource('few', () => generalRaw(5))],
      { eta: 0.5 },
    );
    expect(short.stats.general).toBe(5);
    expect(short.stats.achievedEta).toBeCloseTo(25 / 30);
  });

  it('removes identical records (same turns and mask) across sources', async () => {
    const copies = [agentExample(1), { ...agentExample(1), id: 'other-id' }, agentExample(2)];
    const masked = {
      ...agentExample(1),
      id: 'masked',
      messages: [agentExample(1).messages[0]!, { ...agentExample(1).messages[1]!, loss: false }],
    };
    const sources = [
      agentSource('a', [...copies, masked]),
      agentSource('b', [agentExample(1), agentExample(3)]),
      generalChatSource('g', () => [...generalRaw(3), ...generalRaw(3)]),
    ];
    const deduped = await assembleDataset(sources, { eta: 0.5 });
    expect(deduped.stats.duplicatesRemoved).toBe(2 + 3);
    const out = [];
    for await (const item of deduped.train()) out.push(item);
    expect(new Set(out.map(contentHash)).size).toBe(out.length);
    expect(out.map((e) => e.id)).toContain('masked'); // a different mask is a different record
    const kept = await assembleDataset(sources, { eta: 0.5, dedupe: false });
    expect(kept.stats.duplicatesRemoved).toBe(0);
    expect(kept.stats.revision + kept.stats.good).toBe(6);
  });

  it('shuffles and splits deterministically, independent of source order, with bounded buffers', async () => {
    const a = agentSource(
      'a',
      Array.from({ length: 30 }, (_, i) => agentExample(i)),
    );
    const b = agentSource(
      'b',
      Array.from({ length: 20 }, (_, i) => agentExample(i, 'sciworld')),
    );
    const g = generalChatSource('g', () => generalRaw(100));
    const config = { eta: 0.5, seed: 42, validationFraction: 0.2 };
    const first = await assembleDataset([a, b, g], config);
    const train = await ids(first.train());
    const validation = await ids(first.validation());
    expect(train).toHaveLength(80);
    expect(validation).toHaveLength(20);
    expect(new Set([...train, ...validation]).size).toBe(100);

    const again = await assembleDataset([g, b, a], { ...config, bufferSize: 3 });
    expect(await ids(again.train())).toEqual(train);
    expect(await ids(again.validation())).toEqual(validation);

    const other = await assembleDataset([a, b, g], { ...config, seed: 43 });
    expect(await ids(other.train())).not.toEqual(train);
  });

  it('reads only what a window needs and notices a source that changed', async () => {
    const items = Array.from({ length: 12 }, (_, i) => agentExample(i));
    const source = agentSource('a', items);
    const dataset = await assembleDataset([source], { eta: 1, bufferSize: 5 });
    source.opens = 0;
    expect(await ids(dataset.train())).toHaveLength(12);
    expect(source.opens).toBe(3); // ceil(12 / 5) windows
    items[4] = agentExample(4, 'textcraft', 'edited');
    await expect(ids(dataset.train())).rejects.toThrow(/changed between passes/);
  });

  it('refuses a general example in an agent source', async () => {
    const wrong = {
      name: 'x',
      role: 'agent' as const,
      open: () => [{ ...agentExample(1), kind: 'general' as const }],
    };
    await expect(assembleDataset([wrong])).rejects.toThrow(/yielded a general example/);
  });
});
