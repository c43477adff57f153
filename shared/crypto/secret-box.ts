/**
 * Encrypts short secrets (endpoint API keys) under a server-side passphrase with WebCrypto
 * AES-256-GCM, so they are stored encrypted at rest. Works in workerd and Node alike.
 * The key comes from HKDF-SHA256 over the passphrase with a fresh random salt per secret: the
 * passphrase is a high-entropy deployment secret, so a slow password hash would only cost CPU.
 * Sealed format: base64 of [version 1 byte][salt 16][iv 12][ciphertext + GCM tag].
 */

const VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const HKDF_INFO = new TextEncoder().encode('agent-r secret-box v1');

export class SecretBoxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretBoxError';
  }
}

export interface SealOptions {
  /** Bound into the ciphertext (e.g. the endpoint's name): opening needs the same context. */
  context?: string;
}

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  if (passphrase.length === 0) throw new SecretBoxError('the secret-box passphrase is empty');
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'HKDF', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: HKDF_INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export async function encryptSecret(
  plaintext: string,
  passphrase: string,
  options: SealOptions = {},
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await deriveKey(passphrase, salt);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(options.context ?? '') },
      key,
      new TextEncoder().encode(plaintext),
    ),
  );
  const out = new Uint8Array(1 + SALT_BYTES + IV_BYTES + ciphertext.length);
  out[0] = VERSION;
  out.set(salt, 1);
  out.set(iv, 1 + SALT_BYTES);
  out.set(ciphertext, 1 + SALT_BYTES + IV_BYTES);
  return toBase64(out);
}

/** Throws SecretBoxError if the passphrase or context is wrong or the text was altered. */
export async function decryptSecret(
  sealed: string,
  passphrase: string,
  options: SealOptions = {},
): Promise<string> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64(sealed);
  } catch (cause) {
    throw new SecretBoxError('sealed secret is not base64', { cause });
  }
  if (bytes.length < 1 + SALT_BYTES + IV_BYTES + 16 || bytes[0] !== VERSION) {
    throw new SecretBoxError('sealed secret has an unknown format');
  }
  const salt = bytes.slice(1, 1 + SALT_BYTES);
  const iv = bytes.slice(1 + SALT_BYTES, 1 + SALT_BYTES + IV_BYTES);
  const ciphertext = bytes.slice(1 + SALT_BYTES + IV_BYTES);
  const key = await deriveKey(passphrase, salt);
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(options.context ?? '') },
      key,
      ciphertext,
    );
    return new TextDecoder().decode(plain);
  } catch (cause) {
    throw new SecretBoxError('cannot open sealed secret: wrong passphrase or context, or altered data', {
      cause,
    });
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
