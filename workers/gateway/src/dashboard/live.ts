import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { runs } from '../../../../shared/db/schema';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { taskTreeStub } from '../../../common/env';
import { requireBearer } from '../auth';
import type { GatewayBindings, GatewayContext } from '../context';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { errorResponse } from '../errors';
import { errorResponses, jsonResponse } from '../openapi';
import { LIVE_HOLDER_HEADER } from '../../../common/durable-objects';
import { openLiveSession } from '../services/live-sessions';
import { signTicket, TICKET_TTL_MS, verifyTicket } from './ticket';

// Live tree updates for the dashboard. Browsers cannot put a bearer header on a WebSocket, and
// the API token must never travel in a URL, so the page first trades its token for a ticket
// (POST .../live-ticket, bearer auth, valid 60 s, good for this one task's stream only) and opens
// the socket with it. The upgrade then goes to the task's TaskTree, which accepts it with the
// hibernation API. Mounted before the bearer middleware: the ticket route checks the bearer itself.

const taskParam = z.object({
  id: z.string().min(1).max(100),
  task: z.coerce.number().int().nonnegative().max(1_000_000),
});

/** A ticket names the task and the API token it was bought with (`admin` for ADMIN_TOKEN). */
const liveScope = (run: string, task: number, holder: string) => `live:${run}:${task}:${holder}`;

function ticketSecret(env: GatewayBindings): string {
  const secret = env.SECRETS_KEY || env.ADMIN_TOKEN;
  if (!secret)
    throw new ApiError(
      503,
      'not_configured',
      'live updates need SECRETS_KEY (or ADMIN_TOKEN) to sign tickets',
    );
  return secret;
}

async function requireTask(env: GatewayBindings, id: string, task: number): Promise<void> {
  const row = await drizzle(env.DB).select({ spec: runs.spec }).from(runs).where(eq(runs.id, id)).get();
  if (!row) throw notFound(`run ${id}`);
  if (!(row.spec as RunSpec).tasks.includes(task)) throw notFound(`task ${task} of run ${id}`);
}

export const liveApp = new OpenAPIHono<GatewayContext>();

liveApp.use('/:id/tasks/:task/live-ticket', requireBearer);

liveApp.openapi(
  createRoute({
    method: 'post',
    path: '/{id}/tasks/{task}/live-ticket',
    summary:
      "A 60-second ticket to open the task's live tree stream (WebSocket) without the token in the URL",
    security: [{ bearer: [] }],
    request: { params: taskParam },
    responses: {
      200: jsonResponse(
        z.object({ ticket: z.string(), expiresAt: z.number(), url: z.string() }),
        'The ticket and the WebSocket path to open with it',
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id, task } = c.req.valid('param');
    await requireTask(c.env, id, task);
    const holder = c.get('principal')?.tokenId ?? 'admin';
    const ticket = await signTicket(ticketSecret(c.env), liveScope(id, task, holder));
    const url = `/v1/runs/${encodeURIComponent(id)}/tasks/${task}/live?ticket=${encodeURIComponent(ticket)}&holder=${encodeURIComponent(holder)}`;
    return c.json({ ticket, expiresAt: Date.now() + TICKET_TTL_MS, url }, 200);
  },
);

liveApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/tasks/{task}/live',
    summary:
      'WebSocket: the task tree as it grows. Messages (JSON): hello {status, nodes}, nodes {status, nodes: [flat node]}, status {status}; send "ping" for "pong"',
    request: {
      params: taskParam,
      query: z.object({ ticket: z.string().max(2000), holder: z.string().max(100).default('admin') }),
    },
    responses: {
      101: { description: 'Switching protocols: the live stream' },
      401: { ...errorResponses[401], description: 'Missing, invalid or expired ticket' },
      426: { description: 'Not a WebSocket upgrade' },
    },
  }),
  async (c) => {
    const { id, task } = c.req.valid('param');
    const { ticket, holder } = c.req.valid('query');
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket')
      return errorResponse(c, 426, 'upgrade_required', 'open this path as a WebSocket') as never;
    if (!(await verifyTicket(ticketSecret(c.env), ticket, liveScope(id, task, holder))))
      return errorResponse(c, 401, 'unauthorized', 'invalid or expired live ticket') as never;
    // A token revoked since the ticket was bought opens nothing; a live one is recorded, so that
    // revoking it closes this socket (closeLiveSessions).
    if (!(await openLiveSession(c.env, holder, id, task)))
      return errorResponse(c, 401, 'unauthorized', 'the token behind this ticket was revoked') as never;
    // The ticket stays here: the object only sees the upgrade and whose it is.
    const headers = new Headers(c.req.raw.headers);
    headers.set(LIVE_HOLDER_HEADER, holder);
    const upgrade = new Request('https://task-tree/live', { headers });
    return (await taskTreeStub(c.env, id, task).fetch(upgrade)) as never;
  },
);
