// Incremental SHA-256 (FIPS 180-4). WebCrypto's digest() needs the whole input at once;
// this one takes a file line by line, so an export can be hashed while it streams, in Node
// and workerd alike. Checked against crypto.subtle in the tests.

function firstPrimes(count: number): number[] {
  const primes: number[] = [];
  for (let n = 2; primes.length < count; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
  return primes;
}

const fraction32 = (x: number): number => Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;
const PRIMES = firstPrimes(64);
/** Round constants: fractional parts of the cube roots of the first 64 primes. */
const K = Uint32Array.from(PRIMES, (p) => fraction32(Math.cbrt(p)));
/** Initial state: fractional parts of the square roots of the first 8 primes. */
const H0 = Uint32Array.from(PRIMES.slice(0, 8), (p) => fraction32(Math.sqrt(p)));

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

export interface Sha256 {
  update(data: Uint8Array | string): Sha256;
  /** Finishes the hash; the object cannot be updated afterwards. */
  digest(): Uint8Array;
  digestHex(): string;
}

export function createSha256(): Sha256 {
  const state = Uint32Array.from(H0);
  const block = new Uint8Array(64);
  const words = new Uint32Array(64);
  const encoder = new TextEncoder();
  let blockLength = 0;
  let totalBytes = 0;
  let finished = false;

  const compress = (): void => {
    for (let t = 0; t < 16; t++) {
      words[t] =
        ((block[4 * t] as number) << 24) |
        ((block[4 * t + 1] as number) << 16) |
        ((block[4 * t + 2] as number) << 8) |
        (block[4 * t + 3] as number);
    }
    for (let t = 16; t < 64; t++) {
      const w15 = words[t - 15] as number;
      const w2 = words[t - 2] as number;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      words[t] = ((words[t - 16] as number) + s0 + (words[t - 7] as number) + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = state as unknown as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    for (let t = 0; t < 64; t++) {
      const t1 =
        (h +
          (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
          ((e & f) ^ (~e & g)) +
          (K[t] as number) +
          (words[t] as number)) |
        0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const next = [a, b, c, d, e, f, g, h];
    for (let i = 0; i < 8; i++) state[i] = ((state[i] as number) + (next[i] as number)) | 0;
  };

  const hasher: Sha256 = {
    update(data) {
      if (finished) throw new Error('sha256: update after digest');
      const bytes = typeof data === 'string' ? encoder.encode(data) : data;
      totalBytes += bytes.length;
      let offset = 0;
      while (offset < bytes.length) {
        const take = Math.min(64 - blockLength, bytes.length - offset);
        block.set(bytes.subarray(offset, offset + take), blockLength);
        blockLength += take;
        offset += take;
        if (blockLength === 64) {
          compress();
          blockLength = 0;
        }
      }
      return hasher;
    },
    digest() {
      if (finished) throw new Error('sha256: digest called twice');
      finished = true;
      const bitLength = totalBytes * 8;
      block[blockLength++] = 0x80;
      if (blockLength > 56) {
        block.fill(0, blockLength);
        compress();
        blockLength = 0;
      }
      block.fill(0, blockLength, 56);
      // 64-bit big-endian bit length (exact up to 2^53 bits).
      const high = Math.floor(bitLength / 2 ** 32);
      const low = bitLength >>> 0;
      for (let i = 0; i < 4; i++) {
        block[56 + i] = (high >>> (24 - 8 * i)) & 0xff;
        block[60 + i] = (low >>> (24 - 8 * i)) & 0xff;
      }
      compress();
      const out = new Uint8Array(32);
      for (let i = 0; i < 8; i++) {
        const word = state[i] as number;
        out[4 * i] = word >>> 24;
        out[4 * i + 1] = (word >>> 16) & 0xff;
        out[4 * i + 2] = (word >>> 8) & 0xff;
        out[4 * i + 3] = word & 0xff;
      }
      return out;
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
