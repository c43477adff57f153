import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { and, desc, eq, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { webhookDeliveries, webhooks } from '../../../../shared/db/schema';
import { redactSignedLinks } from '../../../../shared/iterations/download-links';
import { eventNames } from '../../../../shared/contracts/messages';
import { sealWebhookSecret } from '../services/webhooks';
import { requireOutboundUrl } from '../../../common/outbound';
import type { GatewayBindings, GatewayContext } from '../context';
import { notFound } from '../../../../shared/contracts/api-error';
import {
  deliveryPageSchema,
  type WebhookView,
  webhookCreatedSchema,
  webhookListSchema,
  webhookViewSchema,
} from '../../../../shared/contracts/webhooks';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import { newId } from '../services/runs';

// Outbound webhook subscriptions. The signing secret is write-only: stored sealed with the
// secret box, never returned, except once when the server generates it.

const eventNameSchema = z.enum(eventNames);

const webhookCreateSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, normalize: true })
      .max(2000)
      .describe('Where deliveries are POSTed (http or https)'),
    events: z
      .array(eventNameSchema)
      .min(1)
      .max(eventNames.length)
      .refine((events) => new Set(events).size === events.length, 'events must be unique')
      .describe(`Subset of: ${eventNames.join(', ')}`),
    secret: z
      .string()
      .min(16)
      .max(256)
      .optional()
      .describe('Signing secret (write-only). Omit it to have one generated and returned once.'),
  })
  .strict();

const idParam = z.object({ id: z.string().min(1).max(100) });

function view(row: typeof webhooks.$inferSelect): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: row.events as string[],
    active: row.active,
    createdAt: row.createdAt,
  };
}

async function requireWebhook(env: GatewayBindings, id: string) {
  const row = await drizzle(env.DB).select().from(webhooks).where(eq(webhooks.id, id)).get();
  if (!row) throw notFound(`webhook ${id}`);
  return row;
}

function generatedSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')}`;
}

export const webhooksApp = new OpenAPIHono<GatewayContext>();

webhooksApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Subscribe a URL to events (run.completed, dataset.ready, ...); deliveries are signed',
    request: jsonBody(webhookCreateSchema),
    responses: {
      201: jsonResponse(webhookCreatedSchema, 'The subscription (without its secret, unless generated)'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const input = c.req.valid('json');
    requireOutboundUrl(c.env, input.url, 'url');
    const id = newId('whk');
    const secret = input.secret ?? generatedSecret();
    const row = {
      id,
      url: input.url,
      events: input.events,
      secretCiphertext: await sealWebhookSecret(c.env, { id, url: input.url }, secret),
      active: true,
      createdAt: Date.now(),
    };
    await drizzle(c.env.DB).insert(webhooks).values(row);
    return c.json({ ...view(row), ...(input.secret ? {} : { secret }) }, 201);
  },
);

webhooksApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'List webhook subscriptions (secrets are never returned)',
    responses: {
      200: jsonResponse(webhookListSchema, 'Subscriptions'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const rows = await drizzle(c.env.DB).select().from(webhooks).orderBy(desc(webhooks.createdAt)).all();
    return c.json({ webhooks: rows.map(view) }, 200);
  },
);

webhooksApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}',
    summary: 'One webhook subscription',
    request: { params: idParam },
    responses: { 200: jsonResponse(webhookViewSchema, 'The subscription'), ...errorResponses },
  }),
  async (c) => c.json(view(await requireWebhook(c.env, c.req.valid('param').id)), 200),
);

webhooksApp.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    summary: 'Delete a subscription and its delivery log (pending deliveries are dropped)',
    request: { params: idParam },
    responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) }), 'Deleted'), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    await requireWebhook(c.env, id);
    const db = drizzle(c.env.DB);
    await db.delete(webhooks).where(eq(webhooks.id, id));
    await db.delete(webhookDeliveries).where(eq(webhookDeliveries.webhookId, id));
    return c.json({ deleted: true as const }, 200);
  },
);

webhooksApp.openapi(
  createRoute({
    method: 'get',
    path: '/{id}/deliveries',
    summary: 'Delivery log of a webhook, newest first: status, attempts, last status code and error',
    request: {
      params: idParam,
      query: z.object({
        status: z.enum(['pending', 'delivered', 'failed']).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      }),
    },
    responses: {
      200: jsonResponse(deliveryPageSchema, 'A page of deliveries'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const { status, limit, before } = c.req.valid('query');
    await requireWebhook(c.env, id);
    const rows = await drizzle(c.env.DB)
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.webhookId, id),
          status ? eq(webhookDeliveries.status, status) : undefined,
          before === undefined ? undefined : lt(webhookDeliveries.createdAt, before),
        ),
      )
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(limit + 1)
      .all();
    const page = rows.slice(0, limit);
    return c.json(
      {
        deliveries: page.map((d) => ({ ...d, payload: redactSignedLinks(d.payload) })),
        next: rows.length > limit ? (page.at(-1)?.createdAt ?? null) : null,
      },
      200,
    );
  },
);
