import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { desc, eq, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { runs } from '../../../../shared/db/schema';
import { type RunSpec, runSpecSchema } from '../../../../shared/contracts/run-spec';
import { resolveTaskList, type TaskContext } from '../../../../shared/env/task-lists';
import { type RunView, runDetailSchema, runViewSchema } from '../../../../shared/contracts/run-view';
import { runLedgerStub } from '../../../common/env';
import { runReferenceProblem, startRun } from '../services/runs';
import type { GatewayContext } from '../context';
import { ApiError, errorEnvelopeSchema, notFound } from '../errors';
import { jsonBody, jsonResponse, errorResponses } from '../openapi';

/**
 * Tasks may be sent as ids or as the CLI's task-list text ("0-19,25", "textcraft_31", SciWorld's
 * "boil:0-4" or "reference": shared/env/task-lists.ts).
 */
export const runCreateSchema = z.preprocess((body) => {
  if (body && typeof body === 'object' && typeof (body as { tasks?: unknown }).tasks === 'string') {
    const { tasks: text, env, flavor } = body as { tasks: string; env?: unknown; flavor?: unknown };
    try {
      const context = { env: env === 'agentgym' ? 'agentgym' : 'crafting', flavor } as TaskContext;
      return { ...body, tasks: resolveTaskList(text, context) };
    } catch (error) {
      throw new ApiError(400, 'invalid_request', `invalid request: tasks: ${(error as Error).message}`);
    }
  }
  return body;
}, runSpecSchema);

export { runViewSchema };

export { newId } from '../services/runs';

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

/** Starts a build from a validated spec (POST /v1/runs, the signed build webhook, evals, loops). */
export async function createRun(
  env: GatewayContext['Bindings'],
  spec: RunSpec,
  options: { id?: string; iterationId?: string | null } = {},
): Promise<RunView> {
  await checkRunReferences(env, spec);
  const id = await startRun(env, spec, options);
  return loadRunView(env, id);
}

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
      200: jsonResponse(
        z.object({ runs: z.array(runViewSchema), next: z.number().nullable() }),
        'A page of runs',
      ),
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

/** A run naming an endpoint or world that does not exist is refused up front, not failed later. */
export async function checkRunReferences(env: GatewayContext['Bindings'], spec: RunSpec): Promise<void> {
  const problem = await runReferenceProblem(env, spec);
  if (problem) throw new ApiError(400, problem.code, problem.message);
}

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

export async function loadRunView(env: GatewayContext['Bindings'], id: string): Promise<RunView> {
  const db = drizzle(env.DB);
  const row = await db.select().from(runs).where(eq(runs.id, id)).get();
  if (!row) throw notFound(`run ${id}`);
  const ledger = await runLedgerStub(env, id).status();
  return {
    id: row.id,
    status: ledger?.status ?? row.status,
    spec: row.spec as Record<string, unknown>,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
    error: row.error,
    counters: ledger?.counters ?? null,
  };
}
