import {
  prefixedBytes,
  type SignedBody,
  signatureHeader,
  type VerifyOptions,
  type VerifyResult,
  verifySignature,
} from './signing';

// The inbound build hook (POST /v1/hooks/build) signs the idempotency key with the body, so a
// captured request cannot be replayed under a new key:
//
//   x-agent-r-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(HOOK_SECRET, "<t>.<idempotency-key>.<raw body>")>
//
// i.e. the shared webhook scheme (signing.ts) over "<idempotency-key>.<raw body>". The gateway
// also refuses a signature it has already accepted within the tolerance window (a replay).

/** The bytes the build hook's MAC covers after `<t>.`: `<idempotency-key>.<raw body>`. */
export function buildHookSignedBody(idempotencyKey: string, body: SignedBody): Uint8Array {
  return prefixedBytes(`${idempotencyKey}.`, body);
}

/** The x-agent-r-signature value for a build hook request. */
export function signBuildHook(
  secret: string,
  idempotencyKey: string,
  body: SignedBody,
  timestamp?: number,
): Promise<string> {
  return signatureHeader(secret, buildHookSignedBody(idempotencyKey, body), timestamp);
}

export function verifyBuildHook(
  secret: string,
  idempotencyKey: string,
  body: SignedBody,
  header: string | null | undefined,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  return verifySignature(secret, buildHookSignedBody(idempotencyKey, body), header, options);
}
