// Short-lived, scoped tickets for what a browser cannot send a bearer header with (a WebSocket).
// A ticket is `base64url(JSON claims).base64url(HMAC-SHA256)`, signed with a key derived from the
// gateway's secret; it names what it opens and when it expires, and is useless for anything else.

export const TICKET_TTL_MS = 60_000;

export interface TicketClaims {
  /** What the ticket opens, e.g. `live:<run>:<task>`. */
  scope: string;
  /** Expiry, epoch milliseconds. */
  exp: number;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  // A key of its own for tickets, derived from the secret, so a ticket never doubles as anything else.
  const material = await crypto.subtle.digest('SHA-256', encoder.encode(`agent-r ticket key\0${secret}`));
  return crypto.subtle.importKey('raw', material, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

export async function signTicket(secret: string, scope: string, now = Date.now()): Promise<string> {
  const claims: TicketClaims = { scope, exp: now + TICKET_TTL_MS };
  const body = base64url(encoder.encode(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(body));
  return `${body}.${base64url(new Uint8Array(signature))}`;
}

/** True when the ticket was signed with this secret, names this scope and has not expired. */
export async function verifyTicket(
  secret: string,
  ticket: string,
  scope: string,
  now = Date.now(),
): Promise<boolean> {
  const [body, signature, ...rest] = ticket.split('.');
  if (!body || !signature || rest.length) return false;
  const signatureBytes = fromBase64url(signature);
  if (!signatureBytes) return false;
  const valid = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret),
    signatureBytes,
    encoder.encode(body),
  );
  if (!valid) return false;
  const bodyBytes = fromBase64url(body);
  if (!bodyBytes) return false;
  try {
    const claims = JSON.parse(new TextDecoder().decode(bodyBytes)) as Partial<TicketClaims>;
    return claims.scope === scope && typeof claims.exp === 'number' && claims.exp > now;
  } catch {
    return false;
  }
}
