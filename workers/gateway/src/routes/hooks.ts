import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { inboundHooks } from '../../../../shared/db/schema';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { SIGNATURE_HEADER, verifySignature } from '../../../../shared/webhooks/signing';
import type { GatewayBindings, GatewayContext } from '../context';
import { ApiError, errorEnvelopeSchema, errorResponse } from '../errors';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import { createRun, loadRunView, runCreateSchema, runViewSchema } from './runs';

// The inbound build webhook: CI or a trainer starts a build with a signed POST instead of a
// bearer token. Mounted before the bearer middleware. A redelivery (same idempotency-key)
// returns the run the first delivery started and never starts a second build.

interface HookBindings extends GatewayBindings {
  /** Shared secret of the build webhook; the route answers 503 until it is set. */
  HOOK_SECRET?: string;
}

/** A key claimed by a delivery that died before starting its run is reclaimable after this. */
const ABANDONED_CLAIM_MS = 60_000;

const bytesToHex = (buffer: ArrayBuffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

const requireSignature: MiddlewareHandler<GatewayContext> = async (c, next) => {
  const secret = (c.env as HookBindings).HOOK_SECRET;
  if (!secret) {
    return errorResponse(
      c,
      503,
      'hooks_disabled',
      'the build webhook is disabled: set the HOOK_SECRET secret of the gateway',
    );
  }
  const body = new Uint8Array(await c.req.arrayBuffer());
  const verdict = await verifySignature(secret, body, c.req.header(SIGNATURE_HEADER));
  if (!verdict.ok) return errorResponse(c, 401, 'invalid_signature', verdict.message);
  await next();
};

const hookHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .describe('Unique per build request; redeliveries must reuse it'),
  [SIGNATURE_HEADER]: z
    .string()
    .describe('t=<unix seconds>,v1=<hex HMAC-SHA256(HOOK_SECRET, "<t>.<raw body>")>'),
});

export const hooksApp = new OpenAPIHono<GatewayContext>();

const envelope = { content: { 'application/json': { schema: errorEnvelopeSchema } } } as const;

hooksApp.openapi(
  createRoute({
    method: 'post',
    path: '/build',
    summary: 'Start a build from a signed webhook (no bearer token; idempotent per idempotency-key)',
    description:
      'Body: a run spec, as for POST /v1/runs. Signed with HOOK_SECRET: header x-agent-r-signature: ' +
      't=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">, at most 5 minutes old. A redelivery with the ' +
      'same idempotency-key answers 200 with the run the first delivery started.',
    security: [],
    middleware: [requireSignature] as const,
    request: { headers: hookHeaders, ...jsonBody(runCreateSchema) },
    responses: {
      201: jsonResponse(runViewSchema, 'The build was started'),
      200: jsonResponse(runViewSchema, 'A redelivery: the run started by the first delivery'),
      ...errorResponses,
      401: { ...envelope, description: 'Missing, malformed, wrong or stale signature' },
      409: { ...envelope, description: 'The first delivery with this key is still being processed' },
      422: { ...envelope, description: 'The idempotency-key was used before with a different body' },
      503: { ...envelope, description: 'HOOK_SECRET is not set' },
    },
  }),
  async (c) => {
    const spec = c.req.valid('json') as RunSpec;
    const key = c.req.valid('header')['idempotency-key'];
    const bodyHash = bytesToHex(await crypto.subtle.digest('SHA-256', await c.req.arrayBuffer()));
    const db = drizzle(c.env.DB);
    for (let round = 0; round < 2; round++) {
      const claimed = await db
        .insert(inboundHooks)
        .values({ idempotencyKey: key, runId: null, requestSha256: bodyHash, createdAt: Date.now() })
        .onConflictDoNothing()
        .returning({ key: inboundHooks.idempotencyKey });
      if (claimed.length > 0) {
        try {
          const run = await createRun(c.env, spec);
          await db.update(inboundHooks).set({ runId: run.id }).where(eq(inboundHooks.idempotencyKey, key));
          c.header('location', `/v1/runs/${run.id}`);
          return c.json(run, 201);
        } catch (error) {
          // Nothing started: free the key so a corrected redelivery can go through.
          await db.delete(inboundHooks).where(eq(inboundHooks.idempotencyKey, key));
          throw error;
        }
      }
      const first = await db.select().from(inboundHooks).where(eq(inboundHooks.idempotencyKey, key)).get();
      if (!first) continue; // freed between our insert and select: claim again
      if (first.requestSha256 && first.requestSha256 !== bodyHash) {
        throw new ApiError(
          422,
          'idempotency_key_reused',
          `idempotency-key "${key}" was already used with a different body`,
        );
      }
      if (first.runId) {
        c.header('location', `/v1/runs/${first.runId}`);
        c.header('idempotent-replayed', 'true');
        return c.json(await loadRunView(c.env, first.runId), 200);
      }
      if (Date.now() - first.createdAt < ABANDONED_CLAIM_MS) break;
      await db
        .delete(inboundHooks)
        .where(and(eq(inboundHooks.idempotencyKey, key), isNull(inboundHooks.runId)));
    }
    throw new ApiError(
      409,
      'in_progress',
      `a delivery with idempotency-key "${key}" is still being processed; retry shortly`,
    );
  },
);
