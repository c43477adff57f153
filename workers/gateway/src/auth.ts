import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { Context, MiddlewareHandler } from 'hono';
import { apiTokens } from '../../../shared/db/schema';
import type { GatewayContext, Principal } from './context';
import { errorResponse } from './errors';
import { rateLimited } from './rate-limit';
import { allows, broadest, requiredScope } from './scopes';

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares in time independent of where the strings differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** lastUsedAt is written at most this often per token (not on every request). */
const LAST_USED_RESOLUTION_MS = 60_000;

function recordUse(c: Context<GatewayContext>, tokenId: string, lastUsedAt: number | null): void {
  const now = Date.now();
  if (lastUsedAt !== null && now - lastUsedAt < LAST_USED_RESOLUTION_MS) return;
  const write = drizzle(c.env.DB)
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(eq(apiTokens.id, tokenId))
    .run()
    .catch((error: unknown) => console.error('could not record lastUsedAt', error));
  try {
    c.executionCtx.waitUntil(write);
  } catch {
    // no execution context (direct app.request in tests): the write still runs
  }
}

/**
 * Bearer-token auth for every /v1 route: the bootstrap ADMIN_TOKEN (admin), or a token whose
 * SHA-256 is in api_tokens, not revoked and not expired (401 otherwise). Then the token's scopes
 * must cover the route (403 otherwise, scopes.ts) and its rate limit must allow it (429).
 * Tokens themselves are never stored.
 */
export const requireBearer: MiddlewareHandler<GatewayContext> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    return errorResponse(c, 401, 'unauthorized', 'missing bearer token (Authorization: Bearer <token>)');
  const token = match[1]!;
  const admin = c.env.ADMIN_TOKEN;
  let principal: Principal;
  if (admin && timingSafeEqual(token, admin)) {
    principal = { tokenId: 'admin', scopes: ['admin'] };
  } else {
    const row = await drizzle(c.env.DB)
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, await sha256Hex(token)))
      .get();
    if (!row || row.revokedAt !== null)
      return errorResponse(c, 401, 'unauthorized', 'invalid or revoked token');
    if (row.expiresAt !== null && row.expiresAt <= Date.now())
      return errorResponse(c, 401, 'unauthorized', 'this token has expired: create a new one');
    principal = { tokenId: row.id, scopes: Array.isArray(row.scopes) ? (row.scopes as string[]) : [] };
    recordUse(c, row.id, row.lastUsedAt);
  }
  const needed = requiredScope(c.req.method, c.req.path);
  if (!allows(principal.scopes, needed)) {
    return errorResponse(
      c,
      403,
      'forbidden',
      `this token has the ${broadest(principal.scopes)} scope; ${c.req.method} ${c.req.path} needs ${needed}`,
      { required: needed, scopes: principal.scopes },
    );
  }
  const limited = await rateLimited(c, 'token', principal.tokenId);
  if (limited) return limited;
  c.set('principal', principal);
  return next();
};
