import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  evalCreateSchema,
  type EvalView,
  evalListSchema,
  evalViewSchema,
} from '../../../../shared/contracts/eval';
import { createEval, evalView, listEvalRows, loadEvalView } from '../services/evals';
import type { GatewayContext } from '../context';
import { notFound } from '../../../../shared/contracts/api-error';
import { errorEnvelopeSchema } from '../../../../shared/contracts/errors';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';

// Evaluations: a policy run greedily over a task set (plus the optional recovery test); metrics
// are computed from the trees once the runs finished and kept on the eval.

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
    const id = await createEval(c.env, c.req.valid('json'));
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
      200: jsonResponse(evalListSchema, 'Evals'),
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
