import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { endpointKeyContext, originOf } from '../../shared/crypto/bindings';
import { decryptSecret, encryptSecret } from '../../shared/crypto/secret-box';
import { endpoints } from '../../shared/db/schema';
import {
  type Endpoint,
  endpointSchema,
  type PublicEndpoint,
  toPublicEndpoint,
} from '../../shared/inference/endpoint';
import type { CoreBindings } from './env';
import { JobInputError } from './job-input-error';
import { outboundRefusal, requireOutboundUrl } from './outbound';
import { secretsKey } from './secrets';

type EndpointRow = typeof endpoints.$inferSelect;

/** What a write did to the stored key, when it did more than the caller asked. */
export type SavedEndpoint = PublicEndpoint & { notice?: string };

/**
 * The key a write without `apiKey` keeps. Keys are write-only, so clients never have one to resend;
 * a key is kept only while it still goes to the same origin (re-sealed for the new name/model),
 * and removed when the base URL's origin changes: it never follows the endpoint to another host.
 */
async function carriedKey(
  env: CoreBindings,
  existing: EndpointRow,
  next: { name: string; baseUrl: string; model: string },
): Promise<{ ciphertext: string | null; notice?: string }> {
  if (!existing.apiKeyCiphertext) return { ciphertext: null };
  const before = originOf(existing.baseUrl);
  const after = originOf(next.baseUrl);
  if (before !== after) {
    return {
      ciphertext: null,
      notice: `the stored API key was removed because the base URL moved from ${before} to ${after}; send apiKey again to use one there`,
    };
  }
  try {
    const key = await decryptSecret(existing.apiKeyCiphertext, secretsKey(env), {
      context: endpointKeyContext(existing),
    });
    return { ciphertext: await encryptSecret(key, secretsKey(env), { context: endpointKeyContext(next) }) };
  } catch {
    return {
      ciphertext: null,
      notice:
        'the stored API key could not be opened for this endpoint (stored by an older version?); send apiKey again',
    };
  }
}

export async function saveEndpoint(env: CoreBindings, endpoint: Endpoint): Promise<SavedEndpoint> {
  requireOutboundUrl(env, endpoint.baseUrl, 'baseUrl');
  const db = drizzle(env.DB);
  const existing = await db.select().from(endpoints).where(eq(endpoints.name, endpoint.name)).get();
  const { name, baseUrl, model, apiKey, ...config } = endpoint;
  const carried = apiKey
    ? { ciphertext: await encryptSecret(apiKey, secretsKey(env), { context: endpointKeyContext(endpoint) }) }
    : existing
      ? await carriedKey(env, existing, endpoint)
      : { ciphertext: null };
  const apiKeyCiphertext = carried.ciphertext;
  const now = Date.now();
  await db
    .insert(endpoints)
    .values({ name, baseUrl, model, apiKeyCiphertext, config, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: endpoints.name,
      set: { baseUrl, model, apiKeyCiphertext, config, updatedAt: now },
    });
  return {
    ...toPublicEndpoint(endpoint),
    hasApiKey: apiKeyCiphertext !== null,
    ...(carried.notice ? { notice: carried.notice } : {}),
  };
}

function rowToEndpoint(row: EndpointRow, apiKey?: string): Endpoint {
  return endpointSchema.parse({
    ...(row.config as Record<string, unknown>),
    name: row.name,
    baseUrl: row.baseUrl,
    model: row.model,
    ...(apiKey ? { apiKey } : {}),
  });
}

/** An endpoint's settings without its key (no key is opened, no URL is called). Null if unknown. */
export async function loadEndpointSettings(env: CoreBindings, name: string): Promise<Endpoint | null> {
  const row = await drizzle(env.DB).select().from(endpoints).where(eq(endpoints.name, name)).get();
  return row ? rowToEndpoint(row) : null;
}

/** Whether an endpoint of this name is registered (no key is opened). */
export async function endpointExists(env: CoreBindings, name: string): Promise<boolean> {
  const row = await drizzle(env.DB)
    .select({ name: endpoints.name })
    .from(endpoints)
    .where(eq(endpoints.name, name))
    .get();
  return row !== undefined;
}

/**
 * The full record, key decrypted, for the workers that call the endpoint. Null if unknown.
 * Throws a JobInputError when the outbound policy refuses its URL or its key does not open for
 * its current destination (the row was changed behind the API's back).
 */
export async function loadEndpoint(env: CoreBindings, name: string): Promise<Endpoint | null> {
  const row = await drizzle(env.DB).select().from(endpoints).where(eq(endpoints.name, name)).get();
  if (!row) return null;
  const refusal = outboundRefusal(env, row.baseUrl, `endpoint "${name}" baseUrl`);
  if (refusal) throw new JobInputError(refusal);
  let apiKey: string | undefined;
  if (row.apiKeyCiphertext) {
    try {
      apiKey = await decryptSecret(row.apiKeyCiphertext, secretsKey(env), {
        context: endpointKeyContext(row),
      });
    } catch {
      throw new JobInputError(
        `the API key of endpoint "${name}" does not open for its current base URL and model: PUT the endpoint again with its apiKey`,
      );
    }
  }
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
