import { z } from 'zod';

// A tiny seeded PRNG (mulberry32) whose whole state is one uint32, so it can live inside
// the serialised search state and a resumed search draws exactly the numbers it would have.

export const rngStateSchema = z.object({ s: z.number().int().min(0).max(0xffffffff) });
export type RngState = z.infer<typeof rngStateSchema>;

/** murmur3's 32-bit finaliser: spreads nearby seeds far apart. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Any safe integer (negative or above 2^32 included) -> a well-mixed uint32. */
function seedToUint32(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
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
  rng.s = (rng.s + 0x6d2b79f5) >>> 0;
  let t = rng.s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
}

/** Uniform integer in [0, n); advances `rng` in place. */
export function randomIndex(rng: RngState, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`randomIndex: bad n ${n}`);
  return Math.min(n - 1, Math.floor(nextRandom(rng) * n));
}
