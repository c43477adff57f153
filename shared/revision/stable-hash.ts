// Synchronous 64-bit content hash (two independent 32-bit lanes) for stable record ids.
// Ids only need to be stable and practically collision-free, not cryptographic; the
// manifest uses SHA-256 (../formats/sha256).

function lanes(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // Final avalanche so short inputs still spread over all bits.
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 13;
  return [a >>> 0, b >>> 0];
}

/** 16 hex characters identifying `parts` (joined with a separator that cannot be typed). */
export function stableHash(...parts: (string | number | boolean | null | undefined)[]): string {
  const [a, b] = lanes(parts.map((p) => String(p)).join('\u241f'));
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/**
 * The same hash as a 53-bit number (a safe integer): compact keys for de-duplicating many
 * records in memory. Two different texts collide with probability about n^2 / 2^54.
 */
export function stableHashNumber(text: string): number {
  const [a, b] = lanes(text);
  return a * 2 ** 21 + (b >>> 11);
}
