import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { decryptSecret, encryptSecret } from '../../shared/crypto/secret-box';
import { endpoints } from '../../shared/db/schema';
import {
  type Endpoint,
  endpointSchema,
  type PublicEndpoint,
  toPublicEndpoint,
} from '../../shared/inference/endpoint';
import type { CoreBindings } from './env';

/** Local-only fallback so `wrangler dev` works without secrets; deployments must set SECRETS_KEY. */
const LOCAL_SECRETS_KEY = 'agent-r-local-development-only';

export function secretsKey(env: CoreBindings): string {
  return env.SECRETS_KEY ?? LOCAL_SECRETS_KEY;
}

export async function saveEndpoint(env: CoreBindings, endpoint: Endpoint): Promise<PublicEndpoint> {
  const db = drizzle(env.DB);
  const existing = await db.select().from(endpoints).where(eq(endpoints.name, endpoint.name)).get();
  const { name, baseUrl, model, apiKey, ...config } = endpoint;
  // A write without a key keeps the stored one: keys are write-only, so clients never have it to resend.
  const apiKeyCiphertext = apiKey
    ? await encryptSecret(apiKey, secretsKey(env))
    : (existing?.apiKeyCiphertext ?? null);
  const now = Date.now();
  await db
    .insert(endpoints)
    .values({ name, baseUrl, model, apiKeyCiphertext, config, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: endpoints.name,
      set: { baseUrl, model, apiKeyCiphertext, config, updatedAt: now },
    });
  return { ...toPublicEndpoint(endpoint), hasApiKey: apiKeyCiphertext !== null };
}

function rowToEndpoint(row: typeof endpoints.$inferSelect, apiKey?: string): Endpoint {
  return endpointSchema.parse({
    ...(row.config as Record<string, unknown>),
    name: row.name,
    baseUrl: row.baseUrl,
    model: row.model,
    ...(apiKey ? { apiKey } : {}),
  });
}

/** The full record, key decrypted, for the workers that call the endpoint. Null if unknown. */
export async function loadEndpoint(env: CoreBindings, name: string): Promise<Endpoint | null> {
  const row = await drizzle(env.DB).select().from(endpoints).where(eq(endpoints.name, name)).get();
  if (!row) return null;
  const apiKey = row.apiKeyCiphertext
    ? await decryptSecret(row.apiKeyCiphertext, secretsKey(env))
    : undefined;
  return rowToEndpoint(row, apiKey);
}

export async function listPublicEndpoints(env: CoreBindings): Promise<PublicEndpoint[]> {
  const rows = await drizzle(env.DB).select().from(endpoints).orderBy(endpoints.name).all();
  return rows.map((row) => ({
    ...toPublicEndpoint(rowToEndpoint(row)),
    hasApiKey: row.apiKeyCiphertext !== null,
  }));
}

export async function deleteEndpoint(env: CoreBindings, name: string): Promise<boolean> {
  const result = await drizzle(env.DB)
    .delete(endpoints)
    .where(eq(endpoints.name, name))
    .returning({ name: endpoints.name });
  return result.length > 0;
}
