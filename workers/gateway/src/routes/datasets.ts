import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  datasetCreateSchema,
  datasetListSchema,
  datasetViewSchema,
  generalChatListSchema,
  generalChatNameSchema,
  generalChatViewSchema,
} from '../../../../shared/contracts/datasets';
import type { GatewayContext } from '../context';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import {
  createDataset,
  datasetView,
  deleteDataset,
  listDatasets,
  listGeneralChat,
  openDatasetFile,
  requireDataset,
  storeGeneralChat,
} from '../services/datasets';

// /v1/datasets: validate, call the dataset service (services/datasets.ts), answer.

const idParam = z.object({ id: z.string().min(1).max(100) });

export const datasetsApp = new OpenAPIHono<GatewayContext>();

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
  async (c) =>
    c.json(await storeGeneralChat(c.env, c.req.valid('param').name, await c.req.arrayBuffer()), 201),
);

datasetsApp.openapi(
  createRoute({
    method: 'get',
    path: '/general-chat',
    summary: 'Uploaded general chat files',
    responses: { 200: jsonResponse(generalChatListSchema, 'Files'), ...errorResponses },
  }),
  async (c) => c.json(await listGeneralChat(c.env), 200),
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
    responses: { 200: jsonResponse(datasetListSchema, 'Datasets'), ...errorResponses },
  }),
  async (c) => c.json({ datasets: await listDatasets(c.env, c.req.valid('query').limit) }, 200),
);

datasetsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: 'A dataset: status, manifest (counts, SHA-256 per file) and download links',
    request: { params: idParam },
    responses: { 200: jsonResponse(datasetViewSchema, 'The dataset'), ...errorResponses },
  }),
  async (c) => c.json(datasetView(await requireDataset(c.env, c.req.valid('param').id)), 200),
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
    const { body, headers } = await openDatasetFile(c.env, id, file);
    return c.body(body, 200, headers) as never;
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
    await deleteDataset(c.env, c.req.valid('param').id);
    return c.json({ deleted: true as const }, 200);
  },
);
