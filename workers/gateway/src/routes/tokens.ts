import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { apiTokens } from '../../../../shared/db/schema';
import { sha256Hex } from '../auth';
import { scopeSchema } from '../scopes';
import { closeLiveSessions } from '../services/live-sessions';
import type { GatewayContext } from '../context';
import { notFound } from '../../../../shared/contracts/api-error';
import {
  type TokenView,
  tokenCreatedSchema,
  tokenListSchema,
  tokenViewSchema,
} from '../../../../shared/contracts/tokens';
import { errorResponses, jsonBody, jsonResponse } from '../openapi';
import { newId } from '../services/runs';

// API tokens: `ar_` + 32 random bytes (base64url). The token is shown once, at creation; only its
// SHA-256 is stored (auth.ts looks tokens up by that hash). Revoking is immediate.

const tokenCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(100).describe('What the token is for'),
    scopes: z
      .array(scopeSchema)
      .min(1)
      .max(3)
      .default(['build'])
      .describe(
        'read: GETs; build: also starts and changes work; admin: also endpoints, worlds, webhooks, tokens',
      ),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe('Omit for a token that does not expire'),
  })
  .strict();

const idParam = z.object({ id: z.string().min(1).max(100) });

export function generateApiToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const text = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return `ar_${text}`;
}

function view(row: typeof apiTokens.$inferSelect): TokenView {
  return {
    id: row.id,
    name: row.name,
    scopes: Array.isArray(row.scopes) ? (row.scopes as string[]) : [],
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

export const tokensApp = new OpenAPIHono<GatewayContext>();

tokensApp.openapi(
  createRoute({
    method: 'post',
    path: '/',
    summary: 'Create an API token; the token is in this response only (store it now)',
    request: jsonBody(tokenCreateSchema),
    responses: {
      201: jsonResponse(tokenCreatedSchema, 'The token, shown once'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const { name, scopes, expiresInDays } = c.req.valid('json');
    const token = generateApiToken();
    const now = Date.now();
    const row = {
      id: newId('tok'),
      name,
      tokenHash: await sha256Hex(token),
      createdAt: now,
      revokedAt: null,
      lastUsedAt: null,
      scopes: [...new Set(scopes)],
      expiresAt: expiresInDays === undefined ? null : now + expiresInDays * 86_400_000,
    };
    await drizzle(c.env.DB).insert(apiTokens).values(row);
    return c.json({ ...view(row), token }, 201);
  },
);

tokensApp.openapi(
  createRoute({
    method: 'get',
    path: '/',
    summary: 'List API tokens (names and dates; never the tokens)',
    responses: {
      200: jsonResponse(tokenListSchema, 'Tokens'),
      ...errorResponses,
    },
  }),
  async (c) => {
    const rows = await drizzle(c.env.DB).select().from(apiTokens).orderBy(desc(apiTokens.createdAt)).all();
    return c.json({ tokens: rows.map(view) }, 200);
  },
);

tokensApp.openapi(
  createRoute({
    method: 'delete',
    path: '/{id}',
    summary:
      'Revoke an API token: requests with it get 401 from now on and its live dashboard sockets close (idempotent)',
    request: { params: idParam },
    responses: { 200: jsonResponse(tokenViewSchema, 'The revoked token'), ...errorResponses },
  }),
  async (c) => {
    const { id } = c.req.valid('param');
    const db = drizzle(c.env.DB);
    const row = await db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
    if (!row) throw notFound(`token ${id}`);
    if (row.revokedAt !== null) return c.json(view(row), 200);
    const revokedAt = Date.now();
    await db.update(apiTokens).set({ revokedAt }).where(eq(apiTokens.id, id));
    await closeLiveSessions(c.env, id);
    return c.json(view({ ...row, revokedAt }), 200);
  },
);
