import type { CoreBindings } from '../../common/env';

export interface GatewayBindings extends CoreBindings {
  ENVIRONMENT?: string;
  /** The dashboard's built files (wrangler.toml `[assets]`, dashboard/build.ts). */
  ASSETS: Fetcher;
  /** Cloudflare rate-limiting bindings ([[ratelimits]]): per API token and per client IP. */
  RATE_LIMIT_TOKEN?: RateLimit;
  RATE_LIMIT_IP?: RateLimit;
  /** Their periods in seconds (the binding's `simple.period`), sent as retry-after; default 60. */
  RATE_LIMIT_TOKEN_PERIOD?: string;
  RATE_LIMIT_IP_PERIOD?: string;
  /** How often API requests run the reconciler (ms; default 60,000; see services/reconcile.ts). */
  RECONCILE_INTERVAL_MS?: string;
}

/** Who is calling: an API token's id ("admin" for the bootstrap ADMIN_TOKEN) and its scopes. */
export interface Principal {
  tokenId: string;
  scopes: string[];
}

export interface GatewayContext {
  Bindings: GatewayBindings;
  Variables: { principal?: Principal };
}
