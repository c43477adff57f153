import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { MiddlewareHandler } from 'hono';
import { apiTokens } from '../../../shared/db/schema';
import type { GatewayContext } from './context';
import { errorResponse } from './errors';

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

/**
 * Bearer-token auth for every /v1 route: the bootstrap ADMIN_TOKEN, or a token whose SHA-256
 * is in api_tokens and not revoked. Tokens themselves are never stored.
 */
export const requireBearer: MiddlewareHandler<GatewayContext> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    return errorResponse(c, 401, 'unauthorized', 'missing bearer token (Authorization: Bearer <token>)');
  const token = match[1]!;
  const admin = c.env.ADMIN_TOKEN;
  if (admin && timingSafeEqual(token, admin)) return next();
  const hash = await sha256Hex(token);
  const db = drizzle(c.env.DB);
  const row = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)))
    .get();
  if (!row) return errorResponse(c, 401, 'unauthorized', 'invalid or revoked token');
  return next();
};
