import { checkOutboundUrl, type OutboundVars, outboundPolicyFrom } from '../../shared/outbound/policy';
import type { CoreBindings } from './env';
import { ApiError } from '../../shared/contracts/api-error';

/**
 * The outbound policy (shared/outbound/policy.ts) with this deployment's ENVIRONMENT and
 * OUTBOUND_ALLOW. Returns the refusal reason, or null when `url` may be called.
 */
export function outboundRefusal(env: CoreBindings, url: string, what: string): string | null {
  const verdict = checkOutboundUrl(url, outboundPolicyFrom(env as OutboundVars), what);
  return verdict.ok ? null : verdict.reason;
}

/** For API input: a refused URL is the caller's 400. */
export function requireOutboundUrl(env: CoreBindings, url: string, what: string): void {
  const reason = outboundRefusal(env, url, what);
  if (reason) throw new ApiError(400, 'outbound_refused', reason);
}
