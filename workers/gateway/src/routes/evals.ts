import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { evalCreateSchema, evalMetricsSchema } from '../../../../shared/eval';
import {
  createEval,
  type EvalView,
  evalView,
  listEvalRows,
  loadEvalView,
  RequestError,
} from '../services/evals';
import type { GatewayContext } from '../context';
import { ApiError, errorEnvelopeSchema, notFound } from '../errors';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';

// Evaluations: a policy run greedily over a task set (plus the optional recovery test); metrics
// are computed from the trees once the runs finished and kept on the eval.

/** Runs `work`, turning the common layer's refusals into the API's error envelope. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RequestError) throw new ApiError(error.status, error.code, error.message);
    throw error;
  }
}

const runProgressSchema = z
  .object({ status: z.string(), tasks: z.number(), finished: z.number() })
  .nullable();

export const evalViewSchema = z.object({
  id: z.string(),
  status: z.enum(['running', 'completed', 'failed']).or(z.string()),
  phase: z.enum(['evaluating', 'waiting_for_source', 'recovering', 'scoring', 'done']),
  iterationId: z.string().nullable(),
  policy: z.string(),
  spec: z.record(z.string(), z.unknown()),
  runId: z.string().nullable(),
  recovery: z
    .object({
      sourceRunId: z.string().nullable(),
      runId: z.string().nullable(),
      tasks: z.number().nullable(),
      note: z.string().nullable(),
    })
    .nullable(),
  progress: z.object({ run: runProgressSchema, recovery: runProgressSchema }),
  metrics: evalMetricsSchema.nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  completedAt: z.number().nullable(),
});

const idParam = z.object({ id: z.string().min(1).max(100) });
const envelope = { content: { 'application/json': { schema: errorEnvelopeSchema } } } as const;

export const evalsApp = new OpenAPIHono<GatewayContext>();

evalsApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Evaluate a policy: a greedy run over tasks or a split, optionally with the recovery test',
    description:
      'Runs the policy at temperature 0, one sample per step, for up to `rounds` steps per task ' +
      "(default 100 for agentgym, 30 for crafting). Without tasks a crafting eval uses the world's " +
      'held-out goals (split "heldout": every 5th goal). With `recovery`, failed trajectories of ' +
      "`recovery.fromRun` (default: this eval's own run) are cut at a seeded random step and the " +
      'policy continues from there for `recovery.rounds` (default 50) steps. Metrics appear once every ' +
      'run finished; `eval.completed` is emitted then.',
    request: jsonBody(evalCreateSchema),
    responses: {
      201: jsonResponse(evalViewSchema, 'The new eval'),
      ...errorResponses,
      404: { ...envelope, description: 'Unknown iteration or recovery source run' },
    },
  }),
  async (c) => {
    const id = await guarded(() => createEval(c.env, c.req.valid('json')));
    c.header('location', `/v1/evals/${id}`);
    return c.json((await loadEvalView(c.env, id))!, 201);
  },
);

evalsApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'List evals, newest first (optionally of one iteration)',
    request: {
      query: z.object({
        iterationId: z.string().min(1).max(100).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ evals: z.array(evalViewSchema) }), 'Evals'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const rows = await listEvalRows(c.env, c.req.valid('query'));
    const views: EvalView[] = [];
    for (const row of rows) {
      const view = row.status === 'running' ? await loadEvalView(c.env, row.id) : await evalView(c.env, row);
      if (view) views.push(view);
    }
    return c.json({ evals: views }, 200);
  },
);

evalsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: "An eval's progress and, once its runs finished, its metrics",
    request: { params: idParam },
    responses: {
      200: jsonResponse(evalViewSchema, 'The eval'),
      ...errorResponses,
      404: { ...envelope, description: 'No such eval' },
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const view = await loadEvalView(c.env, id);
    if (!view) throw notFound(`eval ${id}`);
    return c.json(view, 200);
  },
);
