import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { exportFormatSchema, exportRecords, exportWarnings } from '../../../../shared/formats/export';
import { jsonlStream } from '../../../../shared/formats/jsonl';
import { nativeRecordSchema } from '../../../../shared/revision';
import { curationSchema } from '../../../../shared/contracts/datacard';
import { runManifestSchema } from '../../../../shared/contracts/manifest';
import {
  taskListSchema,
  taskProgressViewSchema,
  trajectoryPageSchema,
} from '../../../../shared/contracts/run-view';
import { treeFileSchema } from '../../../../shared/contracts/tree-file';
import { runLedgerStub, taskTreeStub } from '../../../common/env';
import { curatedRunRecords } from '../../../common/datacard';
import { readRecordAt } from '../../../common/records';
import { findRecord, indexPage } from '../../../common/record-index';
import { taskRecordsKey, taskTreeKey } from '../../../common/storage-keys';
import { runManifestOf } from '../services/run-manifest';
import { requireRun } from '../services/runs';
import type { GatewayBindings, GatewayContext } from '../context';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { errorResponses, jsonResponse } from '../openapi';

const runParam = z.object({ id: z.string().min(1).max(100) });
const taskParam = runParam.extend({ task: z.coerce.number().int().nonnegative().max(1_000_000) });

async function requireTask(env: GatewayBindings, id: string, task: number) {
  const row = await requireRun(env, id);
  if (!row.spec.tasks.includes(task)) throw notFound(`task ${task} of run ${id}`);
  return row;
}

export const runDataApp = new OpenAPIHono<GatewayContext>();

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/tasks',
    summary: "The run's tasks and their status",
    request: { params: runParam },
    responses: {
      200: jsonResponse(taskListSchema, 'Tasks'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await requireRun(c.env, id);
    const status = await runLedgerStub(c.env, id).status();
    return c.json({ tasks: status?.tasks ?? [] }, 200);
  },
);

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/tasks/{task}',
    summary: "One task's progress, counters and failures",
    request: { params: taskParam },
    responses: { 200: jsonResponse(taskProgressViewSchema, 'Task progress'), ...errorResponses },
  }),
  async (c) => {
    const { id, task } = c.req.valid('param');
    await requireTask(c.env, id, task);
    const progress = await taskTreeStub(c.env, id, task).progress();
    if (!progress) throw notFound(`task ${task} of run ${id} (not started yet)`);
    return c.json({ task, ...progress }, 200);
  },
);

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/tasks/{task}/tree',
    summary: "The task's search tree in the Contract's tree-file shape (live while searching)",
    request: { params: taskParam },
    // The node schema is recursive, which the OpenAPI generator cannot walk: documented by shape.
    responses: {
      200: jsonResponse(
        z.object({ task: z.number(), root: z.record(z.string(), z.unknown()) }),
        'Tree file: {task, root: NODE}, NODE = {id, depth, response, action, observation, reward, done, terminal, visits, value, judgement, children: [NODE]}',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, task } = c.req.valid('param');
    await requireTask(c.env, id, task);
    const live = await taskTreeStub(c.env, id, task).treeFile();
    if (live) return c.json(live, 200);
    const stored = await c.env.BUCKET.get(taskTreeKey(id, task));
    if (!stored) throw notFound(`tree of task ${task} (not started yet)`);
    return c.json(treeFileSchema.parse(await stored.json()), 200);
  },
);

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/trajectories',
    summary: 'Index of the revision and good records (paginated by id)',
    request: {
      params: runParam,
      query: z.object({
        kind: z.enum(['revision', 'good']).optional(),
        task: z.coerce.number().int().nonnegative().optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
        after: z.string().max(200).optional(),
      }),
    },
    responses: {
      200: jsonResponse(trajectoryPageSchema, 'A page'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { kind, task, limit, after } = c.req.valid('query');
    await requireRun(c.env, id);
    const rows = await indexPage(c.env.DB, id, { kind, task, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return c.json({ trajectories: page, next: rows.length > limit ? (page.at(-1)?.id ?? null) : null }, 200);
  },
);

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/trajectories/{trajectoryId}',
    summary: 'One record in the native shape (with its loss flags)',
    request: { params: runParam.extend({ trajectoryId: z.string().min(1).max(200) }) },
    responses: { 200: jsonResponse(nativeRecordSchema, 'The record'), ...errorResponses },
  }),
  async (c) => {
    const { id, trajectoryId } = c.req.valid('param');
    const at = await findRecord(c.env.DB, id, trajectoryId);
    if (!at) throw notFound(`trajectory ${trajectoryId} of run ${id}`);
    const record = await readRecordAt(c.env, taskRecordsKey(id, at.task, at.kind), at.line);
    if (!record) throw new ApiError(409, 'missing_record', `the record file of ${trajectoryId} is gone`);
    return c.json(record, 200);
  },
);

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/dataset',
    summary: "The run's records as JSONL in a trainer format, streamed (memory flat for any size)",
    request: {
      params: runParam,
      query: z.object({
        format: exportFormatSchema.default('native'),
        kind: z.enum(['all', 'revision', 'good']).default('all'),
        /** Defaults to the run spec's `curation`. */
        curation: curationSchema.optional(),
      }),
    },
    responses: {
      200: {
        description: 'JSONL, one record per line',
        content: { 'application/x-ndjson': { schema: z.string() } },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { format, kind, curation } = c.req.valid('query');
    const row = await requireRun(c.env, id);
    const kinds = kind === 'all' ? (['revision', 'good'] as const) : ([kind] as const);
    const lines = exportRecords(curatedRunRecords(c.env, id, row.spec, kinds, curation), format);
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="${id}.${kind}.${format}.jsonl"`,
    };
    const warnings = exportWarnings(format);
    if (warnings.length)
      headers['x-agent-r-warning'] = warnings
        .join(' ')
        .replace(/[\r\n]+/g, ' ')
        .slice(0, 1000);
    return c.body(jsonlStream(lines), 200, headers) as never;
  },
);

runDataApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/manifest',
    summary: "The build's manifest.json (counts, config, thresholds, failures)",
    request: { params: runParam },
    responses: { 200: jsonResponse(runManifestSchema, 'Manifest'), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    return c.json(await runManifestOf(c.env, id), 200);
  },
);
