import { describe, expect, it } from 'vitest';
import { exportRecords, exportWarnings } from '../../../shared/formats/export';
import { generalChatToExample } from '../../../shared/formats/general-chat';
import { jsonlLines, jsonlStream, parseJsonl } from '../../../shared/formats/jsonl';
import {
  buildManifest,
  countKinds,
  exportManifestSchema,
  measureJsonl,
} from '../../../shared/formats/manifest';
import { nativeLineSchema } from '../../../shared/formats/native';
import { createSha256, toHex } from '../../../shared/formats/sha256';
import { generalExample, sampleRecords } from './fixtures';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function webCryptoHex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes))));
}

describe('sha256', () => {
  it('matches WebCrypto for inputs around block boundaries, fed in pieces', async () => {
    for (const size of [0, 1, 55, 56, 57, 63, 64, 65, 127, 128, 1000, 70_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
      const hash = createSha256();
      for (let at = 0; at < size; at += 37) hash.update(bytes.subarray(at, at + 37));
      expect(hash.digestHex()).toBe(await webCryptoHex(bytes));
    }
    expect(createSha256().update('abc').digestHex()).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('jsonl', () => {
  it('round-trips records through a byte stream split inside multi-byte characters', async () => {
    const { revision, good } = sampleRecords();
    const odd = { ...revision, task_description: 'Ünïcödé ✓ 木 🚀' };
    const text = (await collect(exportRecords([odd, good], 'native'))).join('');
    const bytes = new TextEncoder().encode(text);
    const chunks = [];
    for (let at = 0; at < bytes.length; at += 7) chunks.push(bytes.subarray(at, at + 7));
    const back = await collect(parseJsonl(chunks, nativeLineSchema));
    expect(back).toEqual([odd, good]);
    const viaStream = await collect(
      parseJsonl(jsonlStream(exportRecords([odd, good], 'native')), nativeLineSchema),
    );
    expect(viaStream).toEqual([odd, good]);
  });

  it('tolerates CRLF, blank lines and a missing final newline; names the bad line', async () => {
    expect(await collect(jsonlLines(['{"a":1}\r\n\n{"a"', ':2}']))).toEqual(['{"a":1}', '{"a":2}']);
    await expect(collect(parseJsonl(['{"a":1}\nnot json\n']))).rejects.toThrow(/line 2/);
  });
});

describe('general chat', () => {
  it('reads OpenAI and ShareGPT records and trains assistant turns unless told not to', () => {
    const openai = generalChatToExample({
      id: 7,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', weight: 0 },
        { role: 'user', content: 'q2' },
        { role: 'assistant', content: 'a2' },
      ],
    });
    expect(openai.id).toBe('general-7');
    expect(openai.messages.filter((m) => m.role === 'assistant').map((m) => m.loss)).toEqual([false, true]);
    const sharegpt = generalChatToExample({
      system: 's',
      conversations: [
        { from: 'human', value: 'q' },
        { from: 'gpt', value: 'a' },
      ],
    });
    expect(sharegpt.messages).toEqual([
      { role: 'system', content: 's' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a', loss: true },
    ]);
    expect(generalChatToExample({ conversations: [{ from: 'human', value: 'q' }] }).id).toBe(
      generalChatToExample({ conversations: [{ from: 'human', value: 'q' }] }).id,
    );
    expect(() => generalChatToExample({ text: 'nope' })).toThrow(/neither/);
  });
});

describe('manifest', () => {
  it('measures a streamed file and validates the manifest', async () => {
    const { revision, good } = sampleRecords();
    const counted = countKinds([revision, good, generalExample()]);
    const measured = measureJsonl(exportRecords(counted.records, 'openai'));
    const text = (await collect(measured.lines)).join('');
    const summary = measured.summary();
    expect(summary.records).toBe(3);
    expect(summary.bytes).toBe(new TextEncoder().encode(text).length);
    expect(summary.sha256).toBe(await webCryptoHex(new TextEncoder().encode(text)));
    const counts = counted.counts();
    expect(counts).toEqual({ records: 3, revision: 1, good: 1, general: 1 });

    const manifest = buildManifest({
      manifest_version: 1,
      run_ids: ['run-x'],
      model: 'sim',
      envs: ['textcraft'],
      thresholds: { alpha: 0.5, beta: 0.2 },
      transition: 'model',
      seed: 0,
      format: 'openai',
      counts: { ...counts, tasks: 1 },
      created_at: '2025-01-20T10:00:00.000Z',
      files: [{ name: 'dataset.openai.jsonl', split: 'all', ...summary }],
      warnings: exportWarnings('openai'),
    });
    expect(manifest.thresholds.rule).toBe('gap');
    expect(manifest.counts.tasks).toBe(1);
    expect(exportManifestSchema.parse(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
    expect(() =>
      buildManifest({ ...manifest, files: [{ ...manifest.files[0], sha256: 'xyz' }] } as never),
    ).toThrow();
    expect(() => buildManifest({ ...manifest, created_at: 'yesterday' })).toThrow();
  });

  it('refuses a summary before the lines are read', () => {
    expect(() => measureJsonl((async function* () {})()).summary()).toThrow(/to the end/);
  });
});
