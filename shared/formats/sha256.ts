import { createHash } from 'node:crypto';

// Incremental SHA-256: WebCrypto's digest() needs the whole input at once; this takes a file
// line by line, so an export can be hashed while it streams. It is node:crypto's native hash,
// which Node and workerd (nodejs_compat) both provide: a JavaScript SHA-256 was 40% of the
// splicer's CPU in a build's profile (cli/bench/profile.ts). Checked against crypto.subtle in the tests.

export interface Sha256 {
  update(data: Uint8Array | string): Sha256;
  /** Finishes the hash; the object cannot be updated afterwards. */
  digest(): Uint8Array;
  digestHex(): string;
}

export function createSha256(): Sha256 {
  const hash = createHash('sha256');
  let finished = false;
  const hasher: Sha256 = {
    update(data) {
      if (finished) throw new Error('sha256: update after digest');
      // A string is hashed as its UTF-8 bytes (node:crypto's default for strings).
      hash.update(data);
      return hasher;
    },
    digest() {
      if (finished) throw new Error('sha256: digest called twice');
      finished = true;
      return new Uint8Array(hash.digest());
    },
    digestHex() {
      return toHex(hasher.digest());
    },
  };
  return hasher;
}

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
