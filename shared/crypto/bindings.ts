// What a stored secret is bound to: the associated data (AES-GCM AAD) it is sealed with
// (shared/crypto/secret-box.ts). A secret opens only for the destination it was stored for, so a
// row whose URL was changed (by an API caller or by hand in the database) cannot send it elsewhere.

/** The scheme://host:port a URL sends to ("null" for URLs that have none). */
export function originOf(url: string): string {
  return new URL(url).origin;
}

/** An endpoint's API key opens only for this name, base-URL origin and model. */
export function endpointKeyContext(endpoint: { name: string; baseUrl: string; model: string }): string {
  return ['agent-r endpoint key v2', endpoint.name, originOf(endpoint.baseUrl), endpoint.model].join('\n');
}

/** A webhook's signing secret opens only for this webhook id and its URL's origin. */
export function webhookSecretContext(webhook: { id: string; url: string }): string {
  return ['agent-r webhook secret v2', webhook.id, originOf(webhook.url)].join('\n');
}
