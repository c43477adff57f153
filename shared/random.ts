/**
 * A small seeded PRNG (mulberry32) shared by everything that must be reproducible from a seed:
 * the crafting engine's command shuffles, property tests, simulated policies. Its whole state is
 * one 32-bit word, so `state()` / `restore()` make it snapshot-friendly.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  /** `k` distinct elements of `items` in random order (all of them when k >= length). */
  sample<T>(items: readonly T[], k: number): T[];
  state(): number[];
  restore(state: readonly number[]): void;
}

/** Folds any finite number (negative, fractional, above 2^32) into a 32-bit seed word. */
function seedWord(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
  const low = Math.trunc(seed) >>> 0;
  const high = Math.trunc(seed / 4294967296) >>> 0;
  const fraction = Math.round((Math.abs(seed) % 1) * 4294967296) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b9) ^ Math.imul(fraction, 0x85ebca6b)) >>> 0;
}

export function createRng(seed: number): Rng {
  let word = seedWord(seed);

  const next = (): number => {
    word = (word + 0x6d2b79f5) >>> 0;
    let t = Math.imul(word ^ (word >>> 15), 1 | word);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);

  return {
    next,
    int,
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
    sample<T>(items: readonly T[], k: number): T[] {
      const pool = items.slice();
      const count = Math.max(0, Math.min(k, pool.length));
      // Partial Fisher-Yates: the first `count` slots become the sample.
      for (let i = 0; i < count; i++) {
        const j = i + int(pool.length - i);
        [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
      }
      return pool.slice(0, count);
    },
    state: () => [word],
    restore(state: readonly number[]): void {
      const [saved] = state;
      if (state.length !== 1 || typeof saved !== 'number' || !Number.isInteger(saved)) {
        throw new Error('invalid RNG state: expected [uint32]');
      }
      word = saved >>> 0;
    },
  };
}
