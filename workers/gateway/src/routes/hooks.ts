import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { verifyBuildHook } from '../../../../shared/webhooks/build-hook';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER } from '../../../../shared/webhooks/signing';
import { firstUseOfSignature, startOncePerKey } from '../services/hook-claims';
import type { GatewayBindings, GatewayContext } from '../context';
import { errorEnvelopeSchema } from '../../../../shared/contracts/errors';
import { errorResponse } from '../errors';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import { runViewSchema } from '../../../../shared/contracts/run-view';
import { createRun, loadRunView, runCreateSchema } from '../services/runs';

// The inbound build webhook: CI or a trainer starts a build with a signed POST instead of a
// bearer token. Mounted before the bearer middleware. A redelivery (same idempotency-key)
// returns the run the first delivery started and never starts a second build.

interface HookBindings extends GatewayBindings {
  /** Shared secret of the build webhook; the route answers 503 until it is set. */
  HOOK_SECRET?: string;
}

const bytesToHex = (buffer: ArrayBuffer) =>
  [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Checks the signature over "<t>.<idempotency-key>.<raw body>" and that it was not accepted
 * before (a replay within the window), before anything else is read.
 */
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
  const key = c.req.header('idempotency-key') ?? '';
  const verdict = await verifyBuildHook(secret, key, body, c.req.header(SIGNATURE_HEADER));
  if (!verdict.ok) return errorResponse(c, 401, 'invalid_signature', verdict.message);
  if (!(await firstUseOfSignature(c.env, verdict.signature, DEFAULT_TOLERANCE_SECONDS))) {
    return errorResponse(
      c,
      401,
      'replayed_signature',
      'this signature was already used: sign every delivery afresh (a redelivery reuses the idempotency-key, not the signature)',
    );
  }
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
    .describe('t=<unix seconds>,v1=<hex HMAC-SHA256(HOOK_SECRET, "<t>.<idempotency-key>.<raw body>")>'),
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
      't=<unix>,v1=<hex HMAC-SHA256 of "<t>.<idempotency-key>.<raw body>">, at most 5 minutes old either ' +
      'way. A signature already accepted is refused as a replay (401 replayed_signature): sign each ' +
      'delivery afresh. A redelivery with the same idempotency-key answers 200 with the run the first ' +
      'delivery started; after an error the key is freed only when no run was created.',
    security: [],
    middleware: [requireSignature] as const,
    request: { headers: hookHeaders, ...jsonBody(runCreateSchema) },
    responses: {
      201: jsonResponse(runViewSchema, 'The build was started'),
      200: jsonResponse(runViewSchema, 'A redelivery: the run started by the first delivery'),
      ...errorResponses,
      401: { ...envelope, description: 'Missing, malformed, wrong, stale or replayed signature' },
      409: { ...envelope, description: 'The first delivery with this key is still being processed' },
      422: { ...envelope, description: 'The idempotency-key was used before with a different body' },
      503: { ...envelope, description: 'HOOK_SECRET is not set' },
    },
  }),
  async (c) => {
    const spec = c.req.valid('json') as RunSpec;
    const key = c.req.valid('header')['idempotency-key'];
    const bodyHash = bytesToHex(await crypto.subtle.digest('SHA-256', await c.req.arrayBuffer()));
    const outcome = await startOncePerKey(c.env, key, bodyHash, async (id) => {
      await createRun(c.env, spec, { id });
    });
    c.header('location', `/v1/runs/${outcome.runId}`);
    if (outcome.kind === 'existing') c.header('idempotent-replayed', 'true');
    return c.json(await loadRunView(c.env, outcome.runId), outcome.kind === 'created' ? 201 : 200);
  },
);
