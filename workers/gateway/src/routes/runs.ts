import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { desc, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { runs } from '../../../../shared/db/schema';
import { runDetailSchema, runListSchema, runViewSchema } from '../../../../shared/contracts/run-view';
import { runLedgerStub } from '../../../common/env';
import { createRun, loadRunView, runCreateSchema } from '../services/runs';
import type { GatewayContext } from '../context';
import { errorEnvelopeSchema } from '../../../../shared/contracts/errors';
import { jsonBody, jsonResponse, errorResponses } from '../openapi';

const idParam = z.object({ id: z.string().min(1).max(100) });

export const runsApp = new OpenAPIHono<GatewayContext>();

runsApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Start a build (MCTS + critique + splicing) over a set of tasks',
    request: jsonBody(runCreateSchema),
    responses: { 201: jsonResponse(runViewSchema, 'The new run'), ...errorResponses },
  }),
  async (c) => c.json(await createRun(c.env, c.req.valid('json')), 201),
);

runsApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'List runs, newest first',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: z.coerce.number().int().optional(),
      }),
    },
    responses: {
      200: jsonResponse(runListSchema, 'A page of runs'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { limit, before } = c.req.valid('query');
    const db = drizzle(c.env.DB);
    const rows = await db
      .select()
      .from(runs)
      .where(before === undefined ? undefined : lt(runs.createdAt, before))
      .orderBy(desc(runs.createdAt))
      .limit(limit + 1)
      .all();
    const page = rows.slice(0, limit);
    const views = await Promise.all(page.map((r) => loadRunView(c.env, r.id)));
    return c.json({ runs: views, next: rows.length > limit ? (page.at(-1)?.createdAt ?? null) : null }, 200);
  },
);

runsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: "A run's status and counters, and per unfinished task what it waits for since when",
    request: { params: idParam },
    responses: {
      200: jsonResponse(runDetailSchema, 'The run; `waiting` lists up to 50 unfinished tasks'),
      404: { description: 'No such run', content: { 'application/json': { schema: errorEnvelopeSchema } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const view = await loadRunView(c.env, id);
    return c.json({ ...view, waiting: await runLedgerStub(c.env, id).waiting(50) }, 200);
  },
);

runsApp.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/cancel',
    summary: 'Cancel a run: unfinished tasks stop, finished tasks keep their records',
    request: { params: idParam },
    responses: { 200: jsonResponse(runViewSchema, 'The run'), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await loadRunView(c.env, id);
    await runLedgerStub(c.env, id).cancel();
    return c.json(await loadRunView(c.env, id), 200);
  },
);
