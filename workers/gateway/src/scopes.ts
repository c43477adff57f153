import { z } from 'zod';

// Least privilege for API tokens. Three scopes, each including the ones before it:
//   read   GET/HEAD on runs, datasets, evals, loops, iterations (and live tickets to watch a task)
//   build  also starts and changes work: POST/PUT/DELETE on those
//   admin  also endpoints, worlds, webhooks and tokens (any method): what holds keys and secrets
// The bootstrap ADMIN_TOKEN has admin.

export const scopeSchema = z.enum(['read', 'build', 'admin']);
export type Scope = z.infer<typeof scopeSchema>;

const RANK: Record<Scope, number> = { read: 0, build: 1, admin: 2 };

/** Path prefixes that need admin whatever the method. */
const ADMIN_PREFIXES = ['/v1/endpoints', '/v1/worlds', '/v1/webhooks', '/v1/tokens'];

const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The scope a request needs. */
export function requiredScope(method: string, path: string): Scope {
  if (ADMIN_PREFIXES.some((prefix) => isUnder(path, prefix))) return 'admin';
  if (method === 'GET' || method === 'HEAD') return 'read';
  // Asking for a live ticket only lets the caller watch: reading.
  if (method === 'POST' && /^\/v1\/runs\/[^/]+\/tasks\/[^/]+\/live-ticket$/.test(path)) return 'read';
  return 'build';
}

/** Whether a token with `scopes` may do what needs `needed`. */
export function allows(scopes: readonly string[], needed: Scope): boolean {
  return scopes.some((scope) => scope in RANK && RANK[scope as Scope] >= RANK[needed]);
}

/** The broadest of a token's scopes, for messages. */
export function broadest(scopes: readonly string[]): Scope {
  const known = scopes.filter((s): s is Scope => s in RANK);
  return known.reduce<Scope>((best, s) => (RANK[s] > RANK[best] ? s : best), known[0] ?? 'read');
}
