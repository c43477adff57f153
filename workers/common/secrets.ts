import { ApiError } from '../../shared/contracts/api-error';
import type { CoreBindings } from './env';

// No silent weak defaults: locally the workers fall back to a development passphrase so
// `wrangler dev` works without secrets; with ENVIRONMENT=production they refuse to work instead.

/** Local-only fallback; production never uses it. */
const LOCAL_SECRETS_KEY = 'agent-r-local-development-only';

export const REQUIRED_PRODUCTION_SECRETS = ['SECRETS_KEY', 'ADMIN_TOKEN', 'HOOK_SECRET'] as const;

/** Production lacks a secret: a 503 `not_configured` when a request meets it. */
export class ConfigurationError extends ApiError {
  constructor(message: string) {
    super(503, 'not_configured', message);
    this.name = 'ConfigurationError';
  }
}

export const isProduction = (env: { ENVIRONMENT?: string }) => env.ENVIRONMENT === 'production';

type SecretName = (typeof REQUIRED_PRODUCTION_SECRETS)[number];

/** The secrets production needs that this deployment lacks (none outside production). */
export function missingProductionSecrets(
  env: CoreBindings,
  names: readonly SecretName[] = REQUIRED_PRODUCTION_SECRETS,
): string[] {
  if (!isProduction(env)) return [];
  const vars = env as unknown as Record<string, unknown>;
  return names.filter((name) => typeof vars[name] !== 'string' || vars[name] === '');
}

/**
 * Throws a ConfigurationError naming what production lacks. The gateway needs all three; the
 * queue workers only seal and open secrets, so they check SECRETS_KEY.
 */
export function assertProductionSecrets(
  env: CoreBindings,
  names: readonly SecretName[] = REQUIRED_PRODUCTION_SECRETS,
): void {
  const missing = missingProductionSecrets(env, names);
  if (missing.length > 0) {
    throw new ConfigurationError(
      `ENVIRONMENT=production but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: ` +
        `set ${missing.length === 1 ? 'it' : 'them'} with \`wrangler secret put <NAME>\` on every worker`,
    );
  }
}

/** The passphrase sealing endpoint keys and webhook secrets. */
export function secretsKey(env: CoreBindings): string {
  if (env.SECRETS_KEY) return env.SECRETS_KEY;
  assertProductionSecrets(env, ['SECRETS_KEY']);
  return LOCAL_SECRETS_KEY;
}

/**
 * A key of its own for one purpose (signed links, tickets), derived from SECRETS_KEY so it never
 * doubles as the sealing passphrase: hex SHA-256 over a label and the passphrase.
 */
export async function derivedKey(env: CoreBindings, label: string): Promise<string> {
  const data = new TextEncoder().encode(`agent-r derived key\0${label}\0${secretsKey(env)}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}
