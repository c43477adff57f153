import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { exportFormatSchema, exportRecords } from '../../../../shared/formats/export';
import { jsonlStream, parseJsonl } from '../../../../shared/formats/jsonl';
import { nativeLineSchema, nativeLineToExample } from '../../../../shared/formats/native';
import { verifyDownloadPath } from '../../../../shared/iterations';
import { curatedRunRecords } from '../../../common/datacard';
import { exportKey } from '../../../common/storage-keys';
import type { GatewayBindings, GatewayContext } from '../context';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { errorEnvelopeSchema } from '../../../../shared/contracts/errors';
import { errorResponses } from '../openapi';
import { requireDataset } from '../services/datasets';
import { iterationRow, runRow } from '../services/loop-rows';
import { iterationFilePath, iterationLinkKey } from '../services/trainer';
import { runManifestOf } from '../services/run-manifest';

// The files a trainer downloads through the signed links of its `dataset.ready` payload (no bearer
// token). A single-build iteration serves its run's records (`all|revision|good.<format>.jsonl`);
// an iteration that assembled a dataset serves that dataset's splits (`train|validation.<format>
// .jsonl`), stored once in the native format and converted on the way out.

const formats = exportFormatSchema.options.join('|');
const fileName = z
  .string()
  .regex(
    new RegExp(`^(manifest\\.json|(all|revision|good|train|validation)\\.(${formats})\\.jsonl)$`),
    'manifest.json or <all|revision|good|train|validation>.<format>.jsonl',
  );

export const iterationFilesApp = new OpenAPIHono<GatewayContext>();

const ndjson = (name: string) => ({
  'content-type': 'application/x-ndjson; charset=utf-8',
  'content-disposition': `attachment; filename="${name}"`,
});

/** One split of an iteration's assembled dataset, read from its native file, in `format`. */
async function datasetSplit(env: GatewayBindings, datasetId: string, split: string, format: string) {
  const row = await requireDataset(env, datasetId);
  if (row.status !== 'ready') throw new ApiError(409, 'not_ready', `dataset ${datasetId} is ${row.status}`);
  const object = await env.BUCKET.get(exportKey(datasetId, `${split}.native.jsonl`));
  if (!object) throw notFound(`the ${split} split of dataset ${datasetId}`);
  async function* examples() {
    for await (const line of parseJsonl(object!.body as ReadableStream<Uint8Array>, nativeLineSchema))
      yield nativeLineToExample(line);
  }
  return exportRecords(examples(), format as z.infer<typeof exportFormatSchema>);
}

iterationFilesApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/files/{file}',
    summary: "An iteration's data through a signed link (as handed to the trainer; no bearer token)",
    description:
      "Single-build iterations: the run's records as <all|revision|good>.<format>.jsonl. Iterations of loops " +
      'with `builds`/`dataset`: the assembled dataset as <train|validation>.<format>.jsonl. manifest.json is ' +
      "the run's manifest or the dataset's.",
    security: [],
    request: {
      params: z.object({ id: z.string().min(1).max(100), file: fileName }),
      query: z.object({ expires: z.string().max(20).optional(), signature: z.string().max(200).optional() }),
    },
    responses: {
      200: {
        description: 'manifest.json, or JSONL (one record per line) in the named format',
        content: {
          'application/x-ndjson': { schema: z.string() },
          'application/json': { schema: z.unknown() },
        },
      },
      ...errorResponses,
      403: {
        content: { 'application/json': { schema: errorEnvelopeSchema } },
        description: 'Unknown iteration, expired or wrongly signed link',
      },
    },
  }),
  async (c) => {
    const { id, file } = c.req.valid('param');
    const { expires, signature } = c.req.valid('query');
    // The link is checked with the server's key before any database read; an unknown iteration
    // can have no valid link, so it gets the same 403 as a wrong or expired one.
    const check = await verifyDownloadPath(
      await iterationLinkKey(c.env),
      iterationFilePath(id, file),
      expires,
      signature,
    );
    if (!check.ok) throw new ApiError(403, 'invalid_link', `invalid or expired link: ${check.message}`);
    const row = await iterationRow(c.env, id);
    if (!row?.runId) throw notFound(`the run of iteration ${id}`);
    const [kind, format] = file.split('.') as [string, z.infer<typeof exportFormatSchema>];
    const assembled = kind === 'train' || kind === 'validation';
    if (row.datasetId) {
      if (file === 'manifest.json') {
        const dataset = await requireDataset(c.env, row.datasetId);
        return c.json(dataset.manifest as Record<string, unknown>, 200);
      }
      if (!assembled)
        throw notFound(
          `${file}: iteration ${id} delivers an assembled dataset (train|validation.<format>.jsonl)`,
        );
      const lines = await datasetSplit(c.env, row.datasetId, kind, format);
      return c.body(jsonlStream(lines), 200, ndjson(`${row.datasetId}.${kind}.${format}.jsonl`)) as never;
    }
    if (assembled) throw notFound(`${file}: iteration ${id} has no assembled dataset`);
    if (file === 'manifest.json') return c.json(await runManifestOf(c.env, row.runId), 200);
    const run = await runRow(c.env, row.runId);
    if (!run) throw notFound(`run ${row.runId}`);
    const kinds = kind === 'all' ? (['revision', 'good'] as const) : ([kind as 'revision' | 'good'] as const);
    // The records the run's curation keeps (the loop's build spec may ask for `clean`).
    const lines = exportRecords(curatedRunRecords(c.env, row.runId, run.spec as RunSpec, kinds), format);
    return c.body(jsonlStream(lines), 200, ndjson(`${row.runId}.${kind}.${format}.jsonl`)) as never;
  },
);
