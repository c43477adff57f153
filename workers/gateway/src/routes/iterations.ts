import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import {
  callbackBodySchema,
  loopCreateSchema,
  modelEndpointSchema,
  verifyDownloadPath,
} from '../../../../shared/iterations';
import { iterationViewSchema, loopListSchema, loopViewSchema } from '../../../../shared/contracts/loops';
import { SIGNATURE_HEADER, verifySignature } from '../../../../shared/webhooks/signing';
import type { EventBindings } from '../services/webhooks';
import { createLoop, nextIteration, registerModel } from '../services/loops';
import type { IterationRow } from '../services/loop-rows';
import { iterationCallbackPath, iterationLinkKey, trainerSecretOf } from '../services/trainer';
import {
  iterationView,
  listLoopRows,
  loadIterationView,
  loadLoopView,
  loopView,
} from '../services/loop-views';
import type { GatewayContext } from '../context';
import { notFound } from '../../../../shared/contracts/api-error';
import { errorEnvelopeSchema } from '../../../../shared/contracts/errors';
import { errorResponse } from '../errors';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';

// The iterate-train-evaluate loop over HTTP. Bearer routes: loops (create, lineage) and
// iterations (view, next). Signed routes (mounted before the bearer middleware): the trainer's
// callback and the download links handed to it, both checked with the loop's trainer secret.

const envelope = { content: { 'application/json': { schema: errorEnvelopeSchema } } } as const;
const idParam = z.object({ id: z.string().min(1).max(100) });

// ---------------------------------------------------------------------------------------------
// Loops (bearer)

export const loopsApp = new OpenAPIHono<GatewayContext>();

loopsApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Start an iterate-train-evaluate loop (iteration 1 starts at once)',
    description:
      'Each iteration builds with the current policy and its alpha (default 0.5, 0.7, 1.0), then sends ' +
      'the signed `dataset.ready` webhook (dataset links that need no token, the manifest, a callback URL) ' +
      'to `trainerUrl`. The trainer answers with a signed POST /v1/iterations/{id}/callback naming the new ' +
      "model's endpoint, which becomes the next iteration's policy (at once with `auto`, else on POST " +
      '/v1/iterations/{id}/next). Crafting builds default to the first 20 goals outside the held-out set. ' +
      'With `builds` (several build specs, each `build` plus its own fields) and/or `dataset` (curation, ' +
      'general chat data at eta in records or tokens, split), each iteration runs every build and assembles ONE ' +
      'dataset from all its runs (status `assembling`); the webhook then carries that dataset, its manifest and data card.',
    request: jsonBody(loopCreateSchema),
    responses: { 201: jsonResponse(loopViewSchema, 'The loop and its first iteration'), ...errorResponses },
  }),
  async (c) => {
    const input = c.req.valid('json');
    const publicUrl = input.publicUrl ?? (c.env as EventBindings).PUBLIC_URL ?? new URL(c.req.url).origin;
    const id = await createLoop(c.env, input, publicUrl);
    c.header('location', `/v1/loops/${id}`);
    return c.json((await loadLoopView(c.env, id))!, 201);
  },
);

loopsApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'List loops, newest first',
    request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
    responses: {
      200: jsonResponse(loopListSchema, 'Loops'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const rows = await listLoopRows(c.env, c.req.valid('query').limit);
    const views = [];
    for (const row of rows) views.push(await loopView(c.env, row));
    return c.json({ loops: views }, 200);
  },
);

loopsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: "A loop's lineage: every iteration's policy, alpha, run, data counts, eval and status",
    request: { params: idParam },
    responses: {
      200: jsonResponse(loopViewSchema, 'The loop'),
      ...errorResponses,
      404: { ...envelope, description: 'No such loop' },
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const view = await loadLoopView(c.env, id);
    if (!view) throw notFound(`loop ${id}`);
    return c.json(view, 200);
  },
);

// ---------------------------------------------------------------------------------------------
// Iterations (bearer)

export const iterationsApp = new OpenAPIHono<GatewayContext>();

iterationsApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: 'One iteration',
    request: { params: idParam },
    responses: {
      200: jsonResponse(iterationViewSchema, 'The iteration'),
      ...errorResponses,
      404: { ...envelope, description: 'No such iteration' },
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const view = await loadIterationView(c.env, id);
    if (!view) throw notFound(`iteration ${id}`);
    return c.json(view, 200);
  },
);

iterationsApp.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/next',
    summary: 'Start the next iteration (registering the trained model first when one is given)',
    description:
      'For an iteration waiting for its model (status training), send {"endpoint": {baseUrl, model, apiKey?}}: ' +
      'it is registered as the next policy and the next iteration starts. For a completed iteration of a ' +
      'manual loop (auto false), the next iteration starts with the model already registered.',
    request: {
      params: idParam,
      body: {
        content: {
          'application/json': { schema: z.object({ endpoint: modelEndpointSchema.optional() }).strict() },
        },
        required: false,
      },
    },
    responses: {
      200: jsonResponse(iterationViewSchema, 'The next iteration'),
      ...errorResponses,
      404: { ...envelope, description: 'No such iteration' },
      409: { ...envelope, description: 'The iteration is not ready (still building, failed, or the last)' },
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const text = await c.req.text();
    const body = text.trim()
      ? z.object({ endpoint: modelEndpointSchema.optional() }).strict().parse(JSON.parse(text))
      : {};
    const next = await nextIteration(c.env, id, body.endpoint);
    return c.json(await iterationView(c.env, next), 200);
  },
);

// ---------------------------------------------------------------------------------------------
// Signed by the trainer (no bearer token)

/** One answer for "no such iteration", a bad link and a bad signature: nothing to probe ids with. */
const refused = (c: Context<GatewayContext>) =>
  errorResponse(
    c,
    401,
    'invalid_signature',
    'invalid or expired callback link, or a signature that does not match (use callback.url as given)',
  );

/**
 * The trainer's callback: first the signed link (the server's key, no database read), then the
 * trainer's signature over the raw body with the loop's trainer secret.
 */
const requireTrainerSignature: MiddlewareHandler<GatewayContext> = async (c, next) => {
  const id = c.req.param('id') ?? '';
  const link = await verifyDownloadPath(
    await iterationLinkKey(c.env),
    iterationCallbackPath(id),
    c.req.query('expires'),
    c.req.query('signature'),
    undefined,
    'POST',
  );
  if (!link.ok) return refused(c);
  const secret = await trainerSecretOf(c.env, id);
  if (!secret) {
    return errorResponse(
      c,
      403,
      'no_trainer',
      "this iteration's loop has no trainer: register the model with POST /v1/iterations/{id}/next (bearer token)",
    );
  }
  const body = new Uint8Array(await c.req.arrayBuffer());
  const verdict = await verifySignature(secret, body, c.req.header(SIGNATURE_HEADER));
  if (!verdict.ok) return refused(c);
  await next();
};

export const iterationHooksApp = new OpenAPIHono<GatewayContext>();

iterationHooksApp.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/callback',
    summary: "The trainer's callback: the model trained on this iteration's data (signed, no bearer token)",
    description:
      'POST to callback.url exactly as the dataset.ready payload gives it (it carries a signed ' +
      "?expires=&signature= checked before anything else). Signed with the loop's trainer secret: header " +
      'x-agent-r-signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">, at most 5 minutes old. ' +
      'An unknown iteration, a bad link and a bad signature all answer 401. The endpoint is registered as "<loop id>-m<index+1>"; ' +
      'with `auto` the next iteration starts at once. A repeated callback with the same model is harmless.',
    security: [],
    middleware: [requireTrainerSignature] as const,
    request: {
      params: idParam,
      query: z.object({
        expires: z.string().max(20).optional(),
        signature: z.string().max(200).optional(),
      }),
      headers: z.object({ [SIGNATURE_HEADER]: z.string().describe('t=<unix seconds>,v1=<hex HMAC>') }),
      ...jsonBody(callbackBodySchema),
    },
    responses: {
      200: jsonResponse(iterationViewSchema, 'The iteration, completed'),
      ...errorResponses,
      401: { ...envelope, description: 'Unknown iteration, bad or expired link, or bad signature' },
      403: { ...envelope, description: 'The loop has no trainer' },
      409: { ...envelope, description: 'The iteration is not waiting for a model, or has another one' },
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const row: IterationRow = await registerModel(c.env, id, c.req.valid('json'), { startNext: false });
    return c.json(await iterationView(c.env, row), 200);
  },
);
