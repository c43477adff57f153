import { env as workerEnv } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { CoreBindings } from '../../workers/common/env';
import { putJsonl } from '../../workers/common/r2-jsonl';
import { api, eventually } from './helpers';
import type { DatasetView as ApiDatasetView } from '../../shared/contracts/datasets';
import type { RunCounters, RunView as ApiRunView } from '../../shared/contracts/run-view';

/** A run as the API answers it once its RunLedger counted it (the test reads its counters). */
type RunView = ApiRunView & { counters: RunCounters };
type ApiManifest = NonNullable<ApiDatasetView['manifest']>;
/** An assembled dataset: its manifest always says how it was mixed. */
type DatasetView = ApiDatasetView & {
  manifest: (ApiManifest & Required<Pick<ApiManifest, 'mixing'>>) | null;
};
type ManifestFile = ApiManifest['files'][number];

const env = workerEnv as unknown as CoreBindings;

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function finishedRun(spec: Record<string, unknown>): Promise<RunView> {
  const created = await api('/v1/runs', { method: 'POST', json: spec });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as RunView;
  return eventually(
    async () => {
      const view = (await (await api(`/v1/runs/${id}`)).json()) as RunView;
      return ['completed', 'partial', 'failed'].includes(view.status) ? view : null;
    },
    1200,
    50,
  );
}

function generalChat(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(
      i % 2 === 0
        ? JSON.stringify({
            messages: [
              { role: 'user', content: `question ${i}` },
              { role: 'assistant', content: `answer ${i}` },
            ],
          })
        : JSON.stringify({
            conversations: [
              { from: 'human', value: `q${i}` },
              { from: 'gpt', value: `a${i}` },
            ],
          }),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function uploadGeneral(
  name: string,
  body: string,
  contentType = 'application/x-ndjson',
): Promise<Response> {
  return api(`/v1/datasets/general-chat/${name}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': contentType },
  });
}

let runA: RunView;
let runB: RunView;

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy' },
  });
  expect(put.status).toBe(200);
  [runA, runB] = await Promise.all([
    finishedRun({ tasks: [60, 61], iterations: 4, width: 3, depth: 8, seed: 1 }),
    finishedRun({ tasks: [120, 121], iterations: 4, width: 3, depth: 8, seed: 2 }),
  ]);
  expect(runA.status).toBe('completed');
  expect(runB.status).toBe('completed');
  expect(runA.counters.revision + runB.counters.revision).toBeGreaterThan(0);
}, 120_000);

describe('general chat uploads', () => {
  it('stores valid JSONL and refuses anything else with the line number', async () => {
    const ok = await uploadGeneral('chat-a', generalChat(6));
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ name: 'chat-a', key: 'general-chat/chat-a.jsonl', records: 6 });
    const listed = (await (await api('/v1/datasets/general-chat')).json()) as { files: { key: string }[] };
    expect(listed.files.map((f) => f.key)).toContain('general-chat/chat-a.jsonl');

    const badJson = await uploadGeneral('chat-b', `${generalChat(2)}{oops\n`);
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({
      error: { code: 'invalid_general_chat', message: expect.stringMatching(/line 3/) },
    });
    const badShape = await uploadGeneral('chat-b', '{"text":"no messages"}\n');
    expect(badShape.status).toBe(400);
    const empty = await uploadGeneral('chat-b', '\n\n');
    expect(empty.status).toBe(400);
    const badName = await uploadGeneral('..%2Fescape', generalChat(1));
    expect(badName.status).toBe(400);
    expect(await env.BUCKET.head('general-chat/chat-b.jsonl')).toBeNull();
  });
});

describe('datasets across runs', () => {
  it('pools runs, mixes general chat at eta, splits, and writes files whose SHA-256 match the manifest', async () => {
    expect((await uploadGeneral('mix', generalChat(400))).status).toBe(201);
    const request = {
      name: 'pooled',
      runIds: [runA.id, runB.id],
      format: 'openai',
      generalChatKey: 'general-chat/mix.jsonl',
      eta: 0.5,
      seed: 3,
      validationFraction: 0.25,
    };
    const created = await api('/v1/datasets', { method: 'POST', json: request });
    expect(created.status).toBe(201);
    const dataset = (await created.json()) as DatasetView;
    expect(dataset.status).toBe('ready');
    const manifest = dataset.manifest!;
    expect(manifest.run_ids).toEqual([runA.id, runB.id]);
    expect(manifest.envs).toEqual(['crafting:default']);
    const agentRecords =
      runA.counters.revision + runA.counters.good + runB.counters.revision + runB.counters.good;
    const c = manifest.counts;
    expect(c.revision + c.good + manifest.mixing.duplicates_removed).toBe(agentRecords);
    // eta 0.5: as much general data as agent data (there is enough of it).
    expect(c.general).toBe(c.revision + c.good);
    expect(manifest.mixing.achieved_eta).toBeCloseTo(0.5, 2);
    expect(c.records).toBe(c.revision + c.good + c.general);
    expect(manifest.files.map((f) => f.split)).toEqual(['train', 'validation']);
    const [train, validation] = manifest.files as [ManifestFile, ManifestFile];
    expect(validation.records).toBe(Math.round(c.records * 0.25));
    expect(train.records + validation.records).toBe(c.records);

    for (const file of manifest.files) {
      const response = await api(dataset.links.files[file.split] as string);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/x-ndjson');
      expect(response.headers.get('x-agent-r-sha256')).toBe(file.sha256);
      const bytes = await response.arrayBuffer();
      expect(bytes.byteLength).toBe(file.bytes);
      expect(await sha256Hex(bytes)).toBe(file.sha256);
      const lines = new TextDecoder().decode(bytes).split('\n').filter(Boolean);
      expect(lines).toHaveLength(file.records);
      for (const line of lines) {
        const record = JSON.parse(line) as { messages: { role: string; weight?: number }[] };
        expect(record.messages.some((m) => m.role === 'assistant' && m.weight === 1)).toBe(true);
      }
    }
    const manifestFile = await api(dataset.links.manifest);
    expect(manifestFile.status).toBe(200);
    expect(await manifestFile.json()).toMatchObject({ files: manifest.files, counts: manifest.counts });

    // Seeded: the same request gives the same bytes.
    const again = (await (
      await api('/v1/datasets', { method: 'POST', json: request })
    ).json()) as DatasetView;
    expect(again.id).not.toBe(dataset.id);
    expect(again.manifest!.files.map((f) => f.sha256)).toEqual(manifest.files.map((f) => f.sha256));
    // Another seed shuffles differently.
    const reseeded = (await (
      await api('/v1/datasets', { method: 'POST', json: { ...request, seed: 4 } })
    ).json()) as DatasetView;
    expect(reseeded.manifest!.files[0]!.sha256).not.toBe(train.sha256);

    const got = (await (await api(`/v1/datasets/${dataset.id}`)).json()) as DatasetView;
    expect(got).toMatchObject({ id: dataset.id, name: 'pooled', status: 'ready', format: 'openai' });
    const list = (await (await api('/v1/datasets')).json()) as { datasets: DatasetView[] };
    expect(list.datasets.map((d) => d.id)).toContain(dataset.id);
  });

  it('writes one kind in any format, with the format warnings in the manifest, and emits dataset.ready', async () => {
    const receiver = `${inject('webhookReceiverUrl')}/hook/datasets${Date.now().toString(36)}`;
    const hook = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: receiver, events: ['dataset.ready'], secret: 'dataset-secret-012345' },
    });
    expect(hook.status).toBe(201);
    const created = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'revisions-sharegpt', runIds: [runA.id], format: 'sharegpt', kinds: ['revision'] },
    });
    expect(created.status).toBe(201);
    const dataset = (await created.json()) as DatasetView;
    const manifest = dataset.manifest!;
    expect(manifest.counts.good).toBe(0);
    expect(manifest.counts.general).toBe(0);
    expect(manifest.counts.revision + manifest.mixing.duplicates_removed).toBe(runA.counters.revision);
    expect(manifest.mixing.eta).toBe(1);
    expect(manifest.files).toHaveLength(1);
    expect(manifest.warnings.join(' ')).toMatch(/mask_history/);

    const bucket = receiver.split('/hook/')[1];
    const delivered = await eventually(async () => {
      const got = (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as {
        body: string;
      }[];
      return got.find((r) => r.body.includes(dataset.id));
    });
    expect(JSON.parse(delivered.body)).toMatchObject({
      event: 'dataset.ready',
      data: { datasetId: dataset.id, format: 'sharegpt', runIds: [runA.id] },
    });
  });

  it('refuses unknown or unfinished runs, unknown general chat keys and bad options', async () => {
    const unknown = await api('/v1/datasets', { method: 'POST', json: { name: 'x', runIds: ['run_nope'] } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'not_found' } });

    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO runs (id, status, spec, task_count, created_at, updated_at) VALUES ('run_busy', 'running', ?, 1, ?, ?)",
    )
      .bind(JSON.stringify({ tasks: [0] }), now, now)
      .run();
    const busy = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'x', runIds: [runA.id, 'run_busy'] },
    });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ error: { code: 'run_not_finished' } });

    const noChat = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'x', runIds: [runA.id], generalChatKey: 'general-chat/absent.jsonl' },
    });
    expect(noChat.status).toBe(400);
    for (const bad of [
      { name: 'x', runIds: [] },
      { name: 'x', runIds: [runA.id, runA.id] },
      { name: 'x', runIds: [runA.id], format: 'csv' },
      { name: 'x', runIds: [runA.id], kinds: ['bad'] },
      { name: 'x', runIds: [runA.id], eta: 0 },
      { name: 'x', runIds: [runA.id], validationFraction: 0.9 },
      { name: 'x', runIds: [runA.id], generalChatKey: 'runs/secret.jsonl' },
      { name: '', runIds: [runA.id] },
    ]) {
      const response = await api('/v1/datasets', { method: 'POST', json: bad });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it('serves only files the manifest lists, and deletes datasets with their files', async () => {
    const dataset = (await (
      await api('/v1/datasets', {
        method: 'POST',
        json: { name: 'tmp', runIds: [runB.id], format: 'native' },
      })
    ).json()) as DatasetView;
    expect((await api(`/v1/datasets/${dataset.id}/files/other.jsonl`)).status).toBe(404);
    expect((await api(`/v1/datasets/${dataset.id}/files/..%2F..%2Fruns`)).status).toBe(404);
    expect((await api('/v1/datasets/ds_nope')).status).toBe(404);
    const fileName = dataset.manifest!.files[0]!.name;
    expect(await env.BUCKET.head(`datasets/${dataset.id}/${fileName}`)).not.toBeNull();
    expect((await api(`/v1/datasets/${dataset.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await env.BUCKET.head(`datasets/${dataset.id}/${fileName}`)).toBeNull();
    expect(await env.BUCKET.head(`datasets/${dataset.id}/manifest.json`)).toBeNull();
    expect((await api(`/v1/datasets/${dataset.id}`)).status).toBe(404);
  });
});

describe('putJsonl', () => {
  it('streams a file larger than one part as a multipart upload with the right size and SHA-256', async () => {
    const partBytes = 5 * 1024 * 1024;
    const line = `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n`;
    const count = Math.ceil((2.3 * partBytes) / line.length);
    async function* lines() {
      for (let i = 0; i < count; i++) yield line;
    }
    const summary = await putJsonl(env.BUCKET, 'test/multipart.jsonl', lines(), partBytes);
    expect(summary.records).toBe(count);
    expect(summary.bytes).toBe(count * line.length);
    const object = await env.BUCKET.get('test/multipart.jsonl');
    expect(object?.size).toBe(summary.bytes);
    expect(await sha256Hex(await object!.arrayBuffer())).toBe(summary.sha256);
  });

  it('writes an empty file for no lines', async () => {
    const summary = await putJsonl(env.BUCKET, 'test/empty.jsonl', (async function* () {})());
    expect(summary).toMatchObject({ records: 0, bytes: 0 });
    expect((await env.BUCKET.get('test/empty.jsonl'))?.size).toBe(0);
  });
});
