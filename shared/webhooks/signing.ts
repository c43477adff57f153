// Webhook signatures, both directions (outbound deliveries and the inbound build hook).
//
//   x-agent-r-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, `${t}.${body}`)>
//
// The timestamp is signed with the body, so a captured request cannot be replayed after the
// tolerance window; several v1 entries may be sent (e.g. while rotating secrets) and any one
// matching is enough. WebCrypto only (workerd and Node alike); the MAC comparison is
// crypto.subtle.verify, which compares in constant time.

export const SIGNATURE_HEADER = 'x-agent-r-signature';
/** How far a signature's timestamp may be from now, either way. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  if (secret.length === 0) throw new Error('webhook signing secret is empty');
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | null {
  if (hex.length !== 64 || !/^[0-9a-f]+$/i.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const unixNow = (): number => Math.floor(Date.now() / 1000);

/** The raw body as sent: text (signed as its UTF-8 bytes) or the bytes themselves. */
export type SignedBody = string | Uint8Array;

/** `prefix` (as UTF-8) followed by the body's bytes. */
export function prefixedBytes(prefix: string, body: SignedBody): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(prefix);
  const rest = typeof body === 'string' ? encoder.encode(body) : body;
  const out = new Uint8Array(head.length + rest.length);
  out.set(head, 0);
  out.set(rest, head.length);
  return out;
}

const signedBytes = (timestamp: number, body: SignedBody) => prefixedBytes(`${timestamp}.`, body);

/** The hex HMAC-SHA256 of `${timestamp}.${body}`. */
export async function computeSignature(secret: string, timestamp: number, body: SignedBody): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), signedBytes(timestamp, body));
  return toHex(new Uint8Array(mac));
}

/** The header value for `body`: `t=<unix>,v1=<hex>`. */
export async function signatureHeader(
  secret: string,
  body: SignedBody,
  timestamp = unixNow(),
): Promise<string> {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new Error(`bad signature timestamp ${timestamp}`);
  return `t=${timestamp},v1=${await computeSignature(secret, timestamp, body)}`;
}

export interface ParsedSignature {
  timestamp: number;
  signatures: string[];
}

/** Reads `t=...,v1=...[,v1=...]`; unknown schemes are ignored. Null when malformed. */
export function parseSignatureHeader(header: string | null | undefined): ParsedSignature | null {
  if (!header || header.length > 2000) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,15}$/.test(value) || timestamp !== null) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      signatures.push(value);
    }
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

export type VerifyFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';
export type VerifyResult =
  /** `signature`: the matching v1 value (lower-case hex), e.g. to refuse it when seen again. */
  { ok: true; timestamp: number; signature: string } | { ok: false; reason: VerifyFailure; message: string };

export interface VerifyOptions {
  toleranceSeconds?: number;
  /** Current unix time (seconds); injectable for tests. */
  now?: number;
}

/**
 * Checks a signature header against the raw body. Rejects a missing or malformed header, a
 * timestamp outside the tolerance (past or future), and any MAC that does not match.
 */
export async function verifySignature(
  secret: string,
  body: SignedBody,
  header: string | null | undefined,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (!header) return { ok: false, reason: 'missing', message: `missing ${SIGNATURE_HEADER} header` };
  const parsed = parseSignatureHeader(header);
  if (!parsed)
    return {
      ok: false,
      reason: 'malformed',
      message: `malformed ${SIGNATURE_HEADER} header (want t=<unix>,v1=<hex>)`,
    };
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? unixNow();
  if (Math.abs(now - parsed.timestamp) > tolerance) {
    return {
      ok: false,
      reason: 'stale',
      message: `signature timestamp is ${now - parsed.timestamp}s away from now (tolerance ${tolerance}s)`,
    };
  }
  const key = await hmacKey(secret);
  const data = signedBytes(parsed.timestamp, body);
  let matched: string | null = null;
  // Every candidate is checked (no early exit), so timing does not say which one matched.
  for (const candidate of parsed.signatures) {
    const mac = fromHex(candidate);
    if (mac && (await crypto.subtle.verify('HMAC', key, mac, data))) matched = candidate.toLowerCase();
  }
  if (matched === null)
    return { ok: false, reason: 'mismatch', message: 'signature does not match the body' };
  return { ok: true, timestamp: parsed.timestamp, signature: matched };
}
