import type { Context, MiddlewareHandler } from 'hono';
import type { GatewayContext } from './context';
import { errorResponse } from './errors';

// Abuse limits with Cloudflare's rate-limiting binding ([[ratelimits]] in wrangler.toml; miniflare
// runs the same binding under `wrangler dev` and the Vitest pool). Per client IP on everything
// under /v1 (the signed and ticket routes included, before any token is checked) and per API token
// once it is known. The binding says only yes or no, so retry-after is the binding's period: the
// window the count lives in is never longer. Without a binding there is no limit.

const DEFAULT_PERIOD_SECONDS = 60;

function periodOf(value: string | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_PERIOD_SECONDS;
}

/** The client's address as Cloudflare reports it ("local" where there is none, e.g. wrangler dev). */
export const clientIp = (c: Context<GatewayContext>) => c.req.header('cf-connecting-ip') ?? 'local';

/** A 429 response when `who` is over its limit, else null. */
export async function rateLimited(
  c: Context<GatewayContext>,
  kind: 'token' | 'ip',
  who: string,
): Promise<Response | null> {
  const limiter = kind === 'token' ? c.env.RATE_LIMIT_TOKEN : c.env.RATE_LIMIT_IP;
  if (!limiter) return null;
  const { success } = await limiter.limit({ key: `${kind}:${who}` });
  if (success) return null;
  const period = periodOf(kind === 'token' ? c.env.RATE_LIMIT_TOKEN_PERIOD : c.env.RATE_LIMIT_IP_PERIOD);
  c.header('retry-after', String(period));
  return errorResponse(
    c,
    429,
    'rate_limited',
    `too many requests from this ${kind === 'token' ? 'token' : 'address'}: retry after ${period} s`,
  );
}

/** Per-IP limit for every /v1 request (mounted before the signed routes and the bearer check). */
export const limitByIp: MiddlewareHandler<GatewayContext> = async (c, next) => {
  const limited = await rateLimited(c, 'ip', clientIp(c));
  if (limited) return limited;
  await next();
};
