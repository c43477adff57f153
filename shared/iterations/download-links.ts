import { computeSignature, verifySignature } from '../webhooks/signing';

// Signed download links for a trainer: `GET <path>?expires=<unix>&signature=<hex>` where the
// signature is HMAC-SHA256(trainer secret, "<expires>.GET <path>") -- the webhook signing scheme
// with the expiry in place of the timestamp. The trainer needs no API token, the links cannot
// be changed to another file or run, and they stop working at `expires`.

/** How long the links handed to a trainer stay valid. */
export const DOWNLOAD_LINK_SECONDS = 7 * 24 * 3600;

const signedText = (path: string) => `GET ${path}`;

export async function signDownloadPath(secret: string, path: string, expires: number): Promise<string> {
  const signature = await computeSignature(secret, expires, signedText(path));
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
): Promise<DownloadCheck> {
  if (!expires || !signature || !/^\d{1,15}$/.test(expires))
    return { ok: false, message: 'the link needs its expires and signature parameters' };
  const at = Number(expires);
  if (at < nowSeconds) return { ok: false, message: 'the download link has expired' };
  // verifySignature checks the MAC over "<t>.<body>"; the expiry plays the timestamp (tolerance 0).
  const verdict = await verifySignature(secret, signedText(path), `t=${at},v1=${signature}`, {
    now: at,
    toleranceSeconds: 0,
  });
  return verdict.ok ? { ok: true } : { ok: false, message: 'the download link signature does not match' };
}
