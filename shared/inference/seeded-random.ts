import { createRng } from '../random';

/**
 * Small deterministic randomness: a string/number hash to a 32-bit seed (FNV-1a) and a fast
 * PRNG (shared/random.ts). Enough for jitter and simulation; not for anything secret.
 */

export function hashToSeed(...parts: (string | number)[]): number {
  let hash = 0x811c9dc5;
  const text = parts.join('\u001f');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche so that near-identical inputs give unrelated seeds.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Uniform numbers in [0, 1), the same sequence for the same seed (the shared mulberry32). */
export function createSeededRandom(seed: number): () => number {
  return createRng(seed >>> 0).next;
}

/** One element chosen uniformly; undefined only for an empty list. */
export function pickOne<T>(random: () => number, items: readonly T[]): T | undefined {
  return items[Math.floor(random() * items.length)];
}
