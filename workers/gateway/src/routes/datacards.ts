import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { curationSchema, dataCardSchema } from '../../../../shared/contracts/datacard';
import { dataCardMarkdown } from '../../../../shared/datacard';
import { runDataCard } from '../../../common/datacard';
import type { GatewayContext } from '../context';
import { errorResponses } from '../openapi';
import { runRow } from './run-data';

// GET /v1/runs/{id}/datacard: the run's data card, computed from its records (README: Data card).

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
    responses: {
      200: {
        description: 'The data card',
        content: {
          'application/json': { schema: dataCardSchema },
          'text/markdown': { schema: z.string() },
        },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { curation, format } = c.req.valid('query');
    const row = await runRow(c.env, id);
    const { card } = await runDataCard(c.env, id, row.spec, curation);
    if (format === 'md')
      return c.body(dataCardMarkdown(card), 200, { 'content-type': 'text/markdown; charset=utf-8' }) as never;
    return c.json(card, 200);
  },
);
