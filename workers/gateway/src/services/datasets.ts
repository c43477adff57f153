import { desc, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import {
  type DatasetCreateInput,
  type DatasetView,
  datasetCreateSchema,
  type GeneralChatList,
  type GeneralChatView,
} from '../../../../shared/contracts/datasets';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
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
  jsonlLines,
  type ManifestFile,
  parseJsonl,
} from '../../../../shared/formats';
import { curatedDatasetSources, putDatasetCard } from '../../../common/dataset-curation';
import { provenanceOfRun } from '../../../common/provenance';
import { listR2Objects, putJsonl } from '../../../common/r2-jsonl';
import { exportKey } from '../../../common/storage-keys';
import type { GatewayBindings } from '../context';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { newId } from './runs';
import { emitEventSafely } from './webhooks';

// Datasets across runs: revision + good records of several runs pooled (multi-environment),
// optionally mixed with user-supplied general chat data at agent share eta, de-duplicated,
// shuffled and split with a seed (shared/formats assembleDataset), written to R2 under
// datasets/<id>/ as JSONL in a trainer format plus manifest.json (counts and SHA-256 per file).
// Records are streamed from R2 and streamed back out (multipart upload), never held whole.

const GENERAL_CHAT_PREFIX = 'general-chat/';
const generalChatKey = (name: string) => `${GENERAL_CHAT_PREFIX}${name}.jsonl`;

type DatasetRow = typeof datasets.$inferSelect;

function datasetLinks(id: string, manifest: ExportManifest | null): DatasetView['links'] {
  const base = `/v1/datasets/${encodeURIComponent(id)}/files`;
  return {
    manifest: `${base}/manifest.json`,
    files: Object.fromEntries(
      (manifest?.files ?? []).map((f) => [f.split, `${base}/${encodeURIComponent(f.name)}`]),
    ),
  };
}

/** The API view of a dataset row; the manifest only once the dataset is ready. */
export function datasetView(row: DatasetRow): DatasetView {
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

async function* readR2Jsonl(bucket: R2Bucket, key: string): AsyncGenerator<unknown> {
  const object = await bucket.get(key);
  if (!object) throw new ApiError(409, 'source_missing', `${key} is no longer in storage`);
  yield* parseJsonl(object.body as ReadableStream<Uint8Array>);
}

const envName = (spec: RunSpec) =>
  spec.env === 'agentgym' ? `agentgym:${spec.flavor ?? 'textcraft'}` : `crafting:${spec.world}`;

/** The specs of the runs to pool; refuses unknown runs and runs that are not finished. */
async function finishedRunSpecs(env: GatewayBindings, runIds: readonly string[]): Promise<RunSpec[]> {
  const rows = await drizzle(env.DB)
    .select()
    .from(runs)
    .where(inArray(runs.id, [...runIds]))
    .all();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return runIds.map((id) => {
    const row = byId.get(id);
    if (!row) throw notFound(`run ${id}`);
    if (row.status === 'queued' || row.status === 'running') {
      throw new ApiError(
        409,
        'run_not_finished',
        `run ${id} is still ${row.status}: wait until it completes`,
      );
    }
    return row.spec as RunSpec;
  });
}

/**
 * Assembles a dataset from finished runs (and optional general chat data), writes it to R2 and
 * records it in D1; emits `dataset.ready`. Throws ApiError on bad references; a failure while
 * writing leaves the row `failed` with the reason.
 */
export async function createDataset(
  env: GatewayBindings,
  inputRaw: DatasetCreateInput,
  /** `id`: the dataset's id, chosen and recorded by the caller beforehand (an iteration's dataset step). */
  options: { id?: string } = {},
): Promise<DatasetView> {
  const input = datasetCreateSchema.parse(inputRaw);
  const db = drizzle(env.DB);
  const specs = await finishedRunSpecs(env, input.runIds);
  if (input.generalChatKey && !(await env.BUCKET.head(input.generalChatKey))) {
    throw new ApiError(400, 'unknown_general_chat', `no general chat data at ${input.generalChatKey}`);
  }
  const eta = input.eta ?? (input.generalChatKey ? 0.2 : 1);

  const id = options.id ?? newId('ds');
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
    const curated = await curatedDatasetSources(env, id, pooled, input.kinds, input.curation, {
      seed: input.seed,
      ...input.curationOptions,
    });
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
    // Each source run's provenance; the model is the one the servers reported, when all agree.
    const provenances = await Promise.all(
      input.runIds.map((runId, i) => provenanceOfRun(env, runId, specs[i] as RunSpec)),
    );
    const models = new Set(provenances.map((p) => p.policy.model ?? p.policy.endpoint));
    const stats = assembled.stats;
    const manifest = buildManifest({
      manifest_version: 1,
      run_ids: input.runIds,
      model: models.size === 1 ? ([...models][0] as string) : null,
      envs: [...new Set(specs.map(envName))],
      thresholds: { alpha: first.alpha, beta: first.beta },
      transition: first.transition,
      seed: input.seed,
      format: input.format,
      curation: input.curation,
      ...(input.curationOptions ? { curation_options: input.curationOptions } : {}),
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
      provenance: { runs: Object.fromEntries(input.runIds.map((runId, i) => [runId, provenances[i]])) },
    });
    await putDatasetCard(env, id, { ...curated.card, general: stats.general });
    await env.BUCKET.put(exportKey(id, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, {
      httpMetadata: { contentType: 'application/json' },
    });
    await db.update(datasets).set({ status: 'ready', manifest }).where(eq(datasets.id, id));
    const view = datasetView({
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

/** The dataset's row, or a 404. */
export async function requireDataset(env: GatewayBindings, id: string): Promise<DatasetRow> {
  const row = await drizzle(env.DB).select().from(datasets).where(eq(datasets.id, id)).get();
  if (!row) throw notFound(`dataset ${id}`);
  return row;
}

/** The newest datasets, without their manifests. */
export async function listDatasets(env: GatewayBindings, limit: number) {
  const rows = await drizzle(env.DB)
    .select()
    .from(datasets)
    .orderBy(desc(datasets.createdAt))
    .limit(limit)
    .all();
  return rows.map((r) => {
    const { manifest: _, ...rest } = datasetView(r);
    return rest;
  });
}

/** Deletes a dataset's files, then its row (a retried delete finishes what a failed one left). */
export async function deleteDataset(env: GatewayBindings, id: string): Promise<void> {
  await requireDataset(env, id);
  for await (const objects of listR2Objects(env.BUCKET, exportKey(id, ''), 100)) {
    if (objects.length) await env.BUCKET.delete(objects.map((o) => o.key));
  }
  await drizzle(env.DB).delete(datasets).where(eq(datasets.id, id));
}

/** One of a ready dataset's files (or its manifest.json), with the headers to serve it. */
export async function openDatasetFile(
  env: GatewayBindings,
  id: string,
  file: string,
): Promise<{ body: ReadableStream; headers: Record<string, string> }> {
  const row = await requireDataset(env, id);
  const manifest = datasetView(row).manifest;
  if (!manifest) throw new ApiError(409, 'not_ready', `dataset ${id} is ${row.status}`);
  const entry = manifest.files.find((f) => f.name === file);
  if (!entry && file !== 'manifest.json') throw notFound(`file ${file} of dataset ${id}`);
  const object = await env.BUCKET.get(exportKey(id, file));
  if (!object) throw new ApiError(409, 'missing_file', `file ${file} of dataset ${id} is gone from storage`);
  const headers: Record<string, string> = {
    'content-type': entry ? 'application/x-ndjson; charset=utf-8' : 'application/json',
    'content-length': String(object.size),
    'content-disposition': `attachment; filename="${file}"`,
    etag: object.httpEtag,
  };
  if (entry) headers['x-agent-r-sha256'] = entry.sha256;
  return { body: object.body, headers };
}

/** Checks an uploaded general chat JSONL body record by record and stores it under its name. */
export async function storeGeneralChat(
  env: GatewayBindings,
  name: string,
  raw: ArrayBuffer,
): Promise<GeneralChatView> {
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
  await env.BUCKET.put(key, raw, {
    httpMetadata: { contentType: 'application/x-ndjson; charset=utf-8' },
  });
  return { name, key, records, bytes: raw.byteLength };
}

/** The uploaded general chat files (at most 20 pages of R2 listing). */
export async function listGeneralChat(env: GatewayBindings): Promise<GeneralChatList> {
  const files: GeneralChatList['files'] = [];
  for await (const objects of listR2Objects(env.BUCKET, GENERAL_CHAT_PREFIX, 20)) {
    for (const o of objects) files.push({ key: o.key, bytes: o.size, uploadedAt: o.uploaded.getTime() });
  }
  return { files };
}
