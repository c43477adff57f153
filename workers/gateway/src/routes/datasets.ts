import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { desc, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { datasets, runs } from '../../../../shared/db/schema';
import {
  assembleDataset,
  buildManifest,
  type DatasetSource,
  type ExportManifest,
  exportFileName,
  exportManifestSchema,
  exportRecords,
  exportWarnings,
  generalChatSource,
  generalChatToExample,
  type JsonlSummary,
  jsonlLines,
  type ManifestFile,
  measureJsonl,
  parseJsonl,
} from '../../../../shared/formats';
import {
  type DatasetCreateInput,
  datasetCreateSchema,
  generalChatNameSchema,
} from '../../../../shared/contracts/datasets';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { emitEventSafely } from '../services/webhooks';
import { curatedDatasetSources, putDatasetCard } from '../../../common/dataset-curation';
import { exportKey } from '../../../common/storage-keys';
import type { GatewayBindings, GatewayContext } from '../context';
import { ApiError, notFound } from '../errors';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import { newId } from './runs';

// Datasets across runs: revision + good records of several runs pooled (multi-environment),
// optionally mixed with user-supplied general chat data at agent share eta, de-duplicated,
// shuffled and split with a seed (shared/formats assembleDataset), written to R2 under
// datasets/<id>/ as JSONL in a trainer format plus manifest.json (counts and SHA-256 per file).
// Records are streamed from R2 and streamed back out (multipart upload), never held whole.

const GENERAL_CHAT_PREFIX = 'general-chat/';
const generalChatKey = (name: string) => `${GENERAL_CHAT_PREFIX}${name}.jsonl`;

const datasetViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['building', 'ready', 'failed']),
  format: z.string(),
  runIds: z.array(z.string()),
  createdAt: z.number(),
  error: z.string().nullable(),
  manifest: exportManifestSchema.nullable(),
  links: z.object({ manifest: z.string(), files: z.record(z.string(), z.string()) }),
});
type DatasetView = z.infer<typeof datasetViewSchema>;

const idParam = z.object({ id: z.string().min(1).max(100) });

function datasetLinks(id: string, manifest: ExportManifest | null): DatasetView['links'] {
  const base = `/v1/datasets/${encodeURIComponent(id)}/files`;
  return {
    manifest: `${base}/manifest.json`,
    files: Object.fromEntries(
      (manifest?.files ?? []).map((f) => [f.split, `${base}/${encodeURIComponent(f.name)}`]),
    ),
  };
}

function toView(row: typeof datasets.$inferSelect): DatasetView {
  const parsed = exportManifestSchema.safeParse(row.manifest);
  const manifest = row.status === 'ready' && parsed.success ? parsed.data : null;
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    format: row.format,
    runIds: row.runIds as string[],
    createdAt: row.createdAt,
    error: row.error,
    manifest,
    links: datasetLinks(row.id, manifest),
  };
}

/** R2 wants parts of one size (all but the last) and at least 5 MiB each. */
export const R2_PART_BYTES = 8 * 1024 * 1024;

/**
 * Writes JSONL lines to R2 without holding the file: a plain put when it fits one part, else a
 * multipart upload in equal parts. Returns the file's line count, size and SHA-256.
 */
export async function putJsonl(
  bucket: R2Bucket,
  key: string,
  lines: AsyncIterable<string>,
  partBytes = R2_PART_BYTES,
): Promise<JsonlSummary> {
  const measured = measureJsonl(lines);
  const encoder = new TextEncoder();
  const httpMetadata = { contentType: 'application/x-ndjson; charset=utf-8' };
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let upload: R2MultipartUpload | null = null;
  const parts: R2UploadedPart[] = [];
  const take = (size: number): Uint8Array => {
    const out = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const head = pending[0] as Uint8Array;
      const n = Math.min(head.length, size - offset);
      out.set(head.subarray(0, n), offset);
      offset += n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    pendingBytes -= size;
    return out;
  };
  try {
    for await (const line of measured.lines) {
      const bytes = encoder.encode(line);
      pending.push(bytes);
      pendingBytes += bytes.length;
      while (pendingBytes >= partBytes) {
        upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
        parts.push(await upload.uploadPart(parts.length + 1, take(partBytes)));
      }
    }
    if (!upload) {
      await bucket.put(key, take(pendingBytes), { httpMetadata });
    } else {
      if (pendingBytes > 0) parts.push(await upload.uploadPart(parts.length + 1, take(pendingBytes)));
      await upload.complete(parts);
    }
  } catch (error) {
    await upload?.abort().catch(() => {});
    throw error;
  } finally {
    pending = [];
  }
  return measured.summary();
}

async function* readR2Jsonl(bucket: R2Bucket, key: string): AsyncGenerator<unknown> {
  const object = await bucket.get(key);
  if (!object) throw new ApiError(409, 'source_missing', `${key} is no longer in storage`);
  yield* parseJsonl(object.body as ReadableStream<Uint8Array>);
}

const envName = (spec: RunSpec) =>
  spec.env === 'agentgym' ? `agentgym:${spec.flavor ?? 'textcraft'}` : `crafting:${spec.world}`;

/**
 * Assembles a dataset from finished runs (and optional general chat data), writes it to R2 and
 * records it in D1; emits `dataset.ready`. Throws ApiError on bad references; a failure while
 * writing leaves the row `failed` with the reason.
 */
export async function createDataset(
  env: GatewayBindings,
  inputRaw: DatasetCreateInput,
): Promise<DatasetView> {
  const input = datasetCreateSchema.parse(inputRaw);
  const db = drizzle(env.DB);
  const rows = await db.select().from(runs).where(inArray(runs.id, input.runIds)).all();
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of input.runIds) {
    const row = byId.get(id);
    if (!row) throw notFound(`run ${id}`);
    if (row.status === 'queued' || row.status === 'running') {
      throw new ApiError(
        409,
        'run_not_finished',
        `run ${id} is still ${row.status}: wait until it completes`,
      );
    }
  }
  if (input.generalChatKey && !(await env.BUCKET.head(input.generalChatKey))) {
    throw new ApiError(400, 'unknown_general_chat', `no general chat data at ${input.generalChatKey}`);
  }
  const specs = input.runIds.map((id) => (byId.get(id) as (typeof rows)[number]).spec as RunSpec);
  const eta = input.eta ?? (input.generalChatKey ? 0.2 : 1);

  const id = newId('ds');
  const createdAt = Date.now();
  await db.insert(datasets).values({
    id,
    name: input.name,
    format: input.format,
    runIds: input.runIds,
    manifest: {},
    status: 'building',
    createdAt,
  });
  try {
    const pooled = input.runIds.map((runId, i) => ({ runId, spec: specs[i] as RunSpec }));
    const curated = await curatedDatasetSources(env, id, pooled, input.kinds, input.curation, input.seed);
    const sources: DatasetSource[] = curated.sources;
    const generalKey = input.generalChatKey;
    if (generalKey) sources.push(generalChatSource(generalKey, () => readR2Jsonl(env.BUCKET, generalKey)));
    const assembled = await assembleDataset(sources, {
      eta,
      etaBasis: input.etaBasis,
      seed: input.seed,
      validationFraction: input.validationFraction,
      dedupe: input.dedupe,
    });
    const options = input.formatOptions ?? {};
    const files: ManifestFile[] = [];
    const splits = [
      ['train', assembled.train, assembled.stats.train],
      ['validation', assembled.validation, assembled.stats.validation],
    ] as const;
    for (const [split, examples, count] of splits) {
      if (split === 'validation' && count === 0) continue;
      const name = exportFileName(input.format, split);
      const summary = await putJsonl(
        env.BUCKET,
        exportKey(id, name),
        exportRecords(examples(), input.format, options),
      );
      files.push({ name, split, ...summary });
    }
    const first = specs[0] as RunSpec;
    const models = new Set(specs.map((s) => s.policy));
    const stats = assembled.stats;
    const manifest = buildManifest({
      manifest_version: 1,
      run_ids: input.runIds,
      model: models.size === 1 ? first.policy : null,
      envs: [...new Set(specs.map(envName))],
      thresholds: { alpha: first.alpha, beta: first.beta },
      transition: first.transition,
      seed: input.seed,
      format: input.format,
      curation: input.curation,
      ...(input.formatOptions ? { format_options: input.formatOptions } : {}),
      counts: {
        records: stats.train + stats.validation,
        revision: stats.revision,
        good: stats.good,
        general: stats.general,
        general_available: stats.generalAvailable,
        lines: files.reduce((sum, f) => sum + f.records, 0),
      },
      mixing: {
        eta,
        eta_basis: input.etaBasis,
        achieved_eta: stats.achievedEta,
        validation_fraction: input.validationFraction,
        duplicates_removed: stats.duplicatesRemoved,
      },
      created_at: new Date(createdAt).toISOString(),
      files,
      warnings: exportWarnings(input.format, options),
    });
    await putDatasetCard(env, id, { ...curated.card, general: stats.general });
    await env.BUCKET.put(exportKey(id, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
      httpMetadata: { contentType: 'application/json' },
    });
    await db.update(datasets).set({ status: 'ready', manifest }).where(eq(datasets.id, id));
    const view = toView({
      id,
      name: input.name,
      format: input.format,
      runIds: input.runIds,
      manifest,
      status: 'ready',
      createdAt,
      error: null,
    });
    await emitEventSafely(env, 'dataset.ready', {
      datasetId: id,
      name: input.name,
      format: input.format,
      runIds: input.runIds,
      counts: manifest.counts,
      files: manifest.files,
      links: view.links,
      curation: input.curation,
      manifest,
      datacard: `/v1/datasets/${encodeURIComponent(id)}/datacard`,
    });
    return view;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db
      .update(datasets)
      .set({ status: 'failed', error: message.slice(0, 1000) })
      .where(eq(datasets.id, id));
    if (error instanceof ApiError) throw error;
    throw new ApiError(409, 'assembly_failed', `dataset ${id} could not be assembled: ${message}`);
  }
}

export const datasetsApp = new OpenAPIHono<GatewayContext>();

const generalChatViewSchema = z.object({
  name: z.string(),
  key: z.string(),
  records: z.number(),
  bytes: z.number(),
});

datasetsApp.openapi(
  createRoute({
    method: 'put',
    path: '/general-chat/{name}',
    summary: 'Upload general chat data (JSONL of {messages} or {conversations}) to mix into datasets',
    description:
      'The raw body is JSONL, one OpenAI {"messages":[...]} or ShareGPT {"conversations":[...]} record per ' +
      'line (assistant turns are trained unless weight 0 / loss false). Use the returned key as ' +
      'generalChatKey in POST /v1/datasets. At most 2 MiB per upload.',
    request: {
      params: z.object({ name: generalChatNameSchema }),
      body: {
        content: { 'application/x-ndjson': { schema: z.string() }, 'text/plain': { schema: z.string() } },
        required: true,
      },
    },
    responses: { 201: jsonResponse(generalChatViewSchema, 'Stored'), ...errorResponses },
  }),
  async (c) => {
    const { name } = c.req.valid('param');
    const raw = await c.req.arrayBuffer();
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw);
    } catch {
      throw new ApiError(400, 'invalid_general_chat', 'the body is not UTF-8 text');
    }
    let records = 0;
    try {
      for await (const line of jsonlLines([text])) {
        records++;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw new Error('is not JSON');
        }
        generalChatToExample(value);
      }
    } catch (error) {
      throw new ApiError(400, 'invalid_general_chat', `line ${records}: ${(error as Error).message}`);
    }
    if (records === 0) throw new ApiError(400, 'invalid_general_chat', 'the body holds no JSONL records');
    const key = generalChatKey(name);
    await c.env.BUCKET.put(key, raw, {
      httpMetadata: { contentType: 'application/x-ndjson; charset=utf-8' },
    });
    return c.json({ name, key, records, bytes: raw.byteLength }, 201);
  },
);

datasetsApp.openapi(
  createRoute({
    method: 'get',
    path: '/general-chat',
    summary: 'Uploaded general chat files',
    responses: {
      200: jsonResponse(
        z.object({
          files: z.array(z.object({ key: z.string(), bytes: z.number(), uploadedAt: z.number() })),
        }),
        'Files',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const files: { key: string; bytes: number; uploadedAt: number }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const listed = await c.env.BUCKET.list({ prefix: GENERAL_CHAT_PREFIX, ...(cursor ? { cursor } : {}) });
      for (const o of listed.objects)
        files.push({ key: o.key, bytes: o.size, uploadedAt: o.uploaded.getTime() });
      if (!listed.truncated) break;
      cursor = listed.cursor;
    }
    return c.json({ files }, 200);
  },
);

datasetsApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Assemble a dataset from finished runs: pooled, mixed, de-duplicated, shuffled and split',
    request: jsonBody(datasetCreateSchema),
    responses: { 201: jsonResponse(datasetViewSchema, 'The dataset with its manifest'), ...errorResponses },
  }),
  async (c) => c.json(await createDataset(c.env, c.req.valid('json')), 201),
);

datasetsApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'Datasets, newest first',
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }) },
    responses: {
      200: jsonResponse(
        z.object({ datasets: z.array(datasetViewSchema.omit({ manifest: true })) }),
        'Datasets',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { limit } = c.req.valid('query');
    const rows = await drizzle(c.env.DB)
      .select()
      .from(datasets)
      .orderBy(desc(datasets.createdAt))
      .limit(limit)
      .all();
    return c.json(
      {
        datasets: rows.map((r) => {
          const { manifest: _, ...rest } = toView(r);
          return rest;
        }),
      },
      200,
    );
  },
);

export async function requireDataset(env: GatewayBindings, id: string) {
  const row = await drizzle(env.DB).select().from(datasets).where(eq(datasets.id, id)).get();
  if (!row) throw notFound(`dataset ${id}`);
  return row;
}

datasetsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: 'A dataset: status, manifest (counts, SHA-256 per file) and download links',
    request: { params: idParam },
    responses: { 200: jsonResponse(datasetViewSchema, 'The dataset'), ...errorResponses },
  }),
  async (c) => c.json(toView(await requireDataset(c.env, c.req.valid('param').id)), 200),
);

datasetsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/files/{file}',
    summary: "Download one of the dataset's files (streamed) or its manifest.json",
    request: { params: idParam.extend({ file: z.string().min(1).max(200) }) },
    responses: {
      200: {
        description: 'The file',
        content: {
          'application/x-ndjson': { schema: z.string() },
          'application/json': { schema: z.unknown() },
        },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, file } = c.req.valid('param');
    const row = await requireDataset(c.env, id);
    const manifest = toView(row).manifest;
    if (!manifest) throw new ApiError(409, 'not_ready', `dataset ${id} is ${row.status}`);
    const entry = manifest.files.find((f) => f.name === file);
    if (!entry && file !== 'manifest.json') throw notFound(`file ${file} of dataset ${id}`);
    const object = await c.env.BUCKET.get(exportKey(id, file));
    if (!object)
      throw new ApiError(409, 'missing_file', `file ${file} of dataset ${id} is gone from storage`);
    const headers: Record<string, string> = {
      'content-type': entry ? 'application/x-ndjson; charset=utf-8' : 'application/json',
      'content-length': String(object.size),
      'content-disposition': `attachment; filename="${file}"`,
      etag: object.httpEtag,
    };
    if (entry) headers['x-agent-r-sha256'] = entry.sha256;
    return c.body(object.body, 200, headers) as never;
  },
);

datasetsApp.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    summary: 'Delete a dataset and its files',
    request: { params: idParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), 'Deleted'), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await requireDataset(c.env, id);
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const listed = await c.env.BUCKET.list({ prefix: exportKey(id, ''), ...(cursor ? { cursor } : {}) });
      if (listed.objects.length) await c.env.BUCKET.delete(listed.objects.map((o) => o.key));
      if (!listed.truncated) break;
      cursor = listed.cursor;
    }
    await drizzle(c.env.DB).delete(datasets).where(eq(datasets.id, id));
    return c.json({ deleted: true as const }, 200);
  },
);
