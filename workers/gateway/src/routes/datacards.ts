import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { curationSchema, dataCardSchema } from '../../../../shared/contracts/datacard';
import { dataCardMarkdown } from '../../../../shared/datacard';
import { runDataCard } from '../../../common/datacard';
import type { GatewayContext } from '../context';
import { errorResponses } from '../openapi';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { exportKey } from '../../../common/storage-keys';
import { requireDataset } from '../services/datasets';
import { requireRun } from '../services/runs';

// GET /v1/runs/{id}/datacard: the run's data card, computed from its records (README: Data card).

/** Both routes answer the card as JSON or, with format=md, as Markdown. */
const dataCardResponses = {
  200: {
    description: 'The data card',
    content: {
      'application/json': { schema: dataCardSchema },
      'text/markdown': { schema: z.string() },
    },
  },
  ...errorResponses,
};

export const runDataCardApp = new OpenAPIHono<GatewayContext>();

runDataCardApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/datacard',
    summary: "The run's data card (JSON, or the markdown of datacard.md with format=md)",
    request: {
      params: z.object({ id: z.string().min(1).max(100) }),
      query: z.object({
        /** Defaults to the run spec's `curation`. */
        curation: curationSchema.optional(),
        format: z.enum(['json', 'md']).default('json'),
      }),
    },
    responses: dataCardResponses,
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { curation, format } = c.req.valid('query');
    const row = await requireRun(c.env, id);
    const { card } = await runDataCard(c.env, id, row.spec, curation);
    if (format === 'md')
      return c.body(dataCardMarkdown(card), 200, { 'content-type': 'text/markdown; charset=utf-8' }) as never;
    return c.json(card, 200);
  },
);

// GET /v1/datasets/{id}/datacard: the card written when the dataset was assembled.

export const datasetDataCardApp = new OpenAPIHono<GatewayContext>();

datasetDataCardApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/datacard',
    summary: "An assembled dataset's data card: its pooled agent records before and after curation",
    request: {
      params: z.object({ id: z.string().min(1).max(100) }),
      query: z.object({ format: z.enum(['json', 'md']).default('json') }),
    },
    responses: dataCardResponses,
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { format } = c.req.valid('query');
    const row = await requireDataset(c.env, id);
    if (row.status !== 'ready') throw new ApiError(409, 'not_ready', `dataset ${id} is ${row.status}`);
    const object = await c.env.BUCKET.get(exportKey(id, format === 'md' ? 'datacard.md' : 'datacard.json'));
    if (!object) throw notFound(`data card of dataset ${id} (assembled before data cards existed)`);
    if (format === 'md')
      return c.body(await object.text(), 200, { 'content-type': 'text/markdown; charset=utf-8' }) as never;
    return c.json(dataCardSchema.parse(await object.json()), 200);
  },
);
