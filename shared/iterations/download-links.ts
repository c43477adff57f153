import { computeSignature, verifySignature } from '../webhooks/signing';

// Signed links for a trainer: `<METHOD> <path>?expires=<unix>&signature=<hex>` where the signature
// is HMAC-SHA256(link key, "<expires>.<METHOD> <path>") -- the webhook signing scheme with the
// expiry in place of the timestamp. The link key is the server's own (derived from SECRETS_KEY),
// so the gateway checks a link before it reads anything from the database; the trainer needs no
// API token, a link cannot be changed to another file, iteration or method, and it stops at `expires`.

/** How long the download links handed to a trainer stay valid (they are redacted once delivered). */
export const DOWNLOAD_LINK_SECONDS = 24 * 3600;
/** How long the trainer's callback link stays valid: training can take days. */
export const CALLBACK_LINK_SECONDS = 30 * 24 * 3600;

const signedText = (method: string, path: string) => `${method} ${path}`;

export async function signDownloadPath(
  secret: string,
  path: string,
  expires: number,
  method = 'GET',
): Promise<string> {
  const signature = await computeSignature(secret, expires, signedText(method, path));
  return `${path}?expires=${expires}&signature=${signature}`;
}

export type DownloadCheck = { ok: true } | { ok: false; message: string };

/** Checks a link's expiry and signature (constant-time MAC comparison). */
export async function verifyDownloadPath(
  secret: string,
  path: string,
  expires: string | undefined,
  signature: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
  method = 'GET',
): Promise<DownloadCheck> {
  if (!expires || !signature || !/^\d{1,15}$/.test(expires))
    return { ok: false, message: 'the link needs its expires and signature parameters' };
  const at = Number(expires);
  if (at < nowSeconds) return { ok: false, message: 'the link has expired' };
  // verifySignature checks the MAC over "<t>.<body>"; the expiry plays the timestamp (tolerance 0).
  const verdict = await verifySignature(secret, signedText(method, path), `t=${at},v1=${signature}`, {
    now: at,
    toleranceSeconds: 0,
  });
  return verdict.ok ? { ok: true } : { ok: false, message: 'the link signature does not match' };
}

/**
 * The same JSON with the signature of every signed link replaced by "redacted": stored webhook
 * payloads keep their links in plain text only until the delivery is settled.
 */
export function redactSignedLinks(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/([?&]signature=)[0-9a-fA-F]+/g, '$1redacted');
  if (Array.isArray(value)) return value.map(redactSignedLinks);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSignedLinks(v)]));
  return value;
}
