import { createRng, type Rng } from '../random';

// Seeds for pairing, sentence draws, shuffles and splits. The generator is the project's
// shared one (../random); this file only derives a separate, stable stream per use.

export type SeededRandom = Pick<Rng, 'next' | 'int' | 'shuffle'>;

/** Folds a seed and any labels into one 32-bit seed, so each use (and task) gets its own stream. */
export function deriveSeed(seed: number | string, ...labels: (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = [String(seed), ...labels.map(String)].join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function createSeededRandom(seed: number | string): SeededRandom {
  return createRng(typeof seed === 'number' ? seed : deriveSeed(seed));
}
