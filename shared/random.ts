// Seeded randomness: everything that must be reproducible from a seed (the search, pairing,
// revision sentences, shuffles and splits, recovery cuts, the crafting engine, the simulated
// policy, retry jitter) draws from ONE generator, mulberry32, whose whole state is one 32-bit
// word. Two handles on it: `createRng` (an object; the crafting engine snapshots it with
// `state()`/`restore()`) and `RngState` (a plain `{ s }` that lives inside the serialised search
// state, so a resumed search draws exactly the numbers it would have drawn).
//
// Seeds come from numbers or from text. Each way of turning a seed into the generator's first word
// stays exactly as it was when records, trees and golden transcripts were first produced with it:
// changing any of them would change every seeded output, so they are kept side by side here, each
// named for what it does. Nothing here is for secrets (use crypto for those).

const TWO_POW_32 = 4294967296;
const MULBERRY_INCREMENT = 0x6d2b79f5;

/** mulberry32's output for a state word that has just been advanced by MULBERRY_INCREMENT. */
function mulberryOutput(word: number): number {
  let t = Math.imul(word ^ (word >>> 15), 1 | word);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
}

/** murmur3's 32-bit finaliser: spreads nearby inputs far apart. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of `text` (32-bit). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// --- Text and numbers -> a 32-bit seed -------------------------------------------------------

/**
 * A seed per use of a run's seed (pairing, revision sentences, curation caps, dataset shuffles,
 * recovery cuts): FNV-1a of the seed and the labels joined with NUL, no final mixing. The records
 * of every run depend on these values, so the formula must not change.
 */
export function deriveSeed(seed: number | string, ...labels: (string | number)[]): number {
  return fnv1a([String(seed), ...labels.map(String)].join('\u0000'));
}

/**
 * A seed from any parts (the simulated policy's answers, its faults, retry jitter, judge and
 * expansion draws): FNV-1a of the parts joined with U+001F, then murmur3's finaliser so that
 * near-identical inputs give unrelated seeds. Kept apart from `deriveSeed` because the
 * simulated policy's answers (and so the bench's and the golden tests' trees) depend on it.
 */
export function hashToSeed(...parts: (string | number)[]): number {
  return fmix32(fnv1a(parts.join('\u001f')));
}

// --- The generator as an object ---------------------------------------------------------------

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
  const high = Math.trunc(seed / TWO_POW_32) >>> 0;
  const fraction = Math.round((Math.abs(seed) % 1) * TWO_POW_32) >>> 0;
  return (low ^ Math.imul(high, 0x9e3779b9) ^ Math.imul(fraction, 0x85ebca6b)) >>> 0;
}

/** The generator for `seed`: the same seed gives the same sequence, on every platform. */
export function createRng(seed: number): Rng {
  let word = seedWord(seed);

  const next = (): number => {
    word = (word + MULBERRY_INCREMENT) >>> 0;
    return mulberryOutput(word);
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

/** One element chosen uniformly; undefined only for an empty list. */
export function pickOne<T>(random: () => number, items: readonly T[]): T | undefined {
  return items[Math.floor(random() * items.length)];
}

// --- The generator as plain data (the search state) -------------------------------------------

/** The generator's state as the search stores it (a uint32; see mcts/state's rngStateSchema). */
export interface RngState {
  s: number;
}

/** Any safe integer (negative or above 2^32 included) -> a well-mixed uint32 (the search's seeding). */
function seedToUint32(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return fmix32(lo ^ fmix32(hi + 0x9e3779b9));
}

export function createRngState(seed: number): RngState {
  return { s: seedToUint32(seed) };
}

/** Derives a per-item seed (e.g. run seed x task) so trees of one run do not share draws. */
export function mixSeeds(a: number, b: number): number {
  return fmix32(seedToUint32(a) ^ fmix32(seedToUint32(b) + 0x7f4a7c15));
}

/** Uniform float in [0, 1); advances `rng` in place. */
export function nextRandom(rng: RngState): number {
  rng.s = (rng.s + MULBERRY_INCREMENT) >>> 0;
  return mulberryOutput(rng.s);
}

/** Uniform integer in [0, n); advances `rng` in place. */
export function randomIndex(rng: RngState, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`randomIndex: bad n ${n}`);
  return Math.min(n - 1, Math.floor(nextRandom(rng) * n));
}
