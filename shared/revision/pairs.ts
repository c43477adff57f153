import { z } from 'zod';
import type { TreeFile } from '../contracts/tree-file';
import { findLeafPaths, type LeafPath } from './leaf-paths';
import { createRng, deriveSeed } from '../random';

/**
 * Which (good, bad) leaf paths make a training pair.
 * - `gap` (reference code, default): r(good) - r(bad) > beta and r(good) passes alpha.
 * - `band` (the paper's wording): r(bad) < beta < r(good) and r(good) passes alpha.
 * "Passes alpha" is r > alpha, except alpha >= 1 means r >= 1 (a strict > 1 never holds).
 */
export const pairingConfigSchema = z.object({
  alpha: z.number().min(0).max(1).default(0.5),
  beta: z.number().min(0).max(1).default(0.2),
  rule: z.enum(['gap', 'band']).default('gap'),
  /** Optional cap on pairs per task, applied after the seeded shuffle. */
  maxPairsPerTask: z.number().int().positive().optional(),
  seed: z.number().int().default(0),
});
export type PairingConfigInput = z.input<typeof pairingConfigSchema>;
export type PairingConfig = z.output<typeof pairingConfigSchema>;

/** Rewards closer than this count as equal, so 0.9 - 0.7 does not beat beta = 0.2 by rounding. */
export const REWARD_TOLERANCE = 1e-9;

export interface PathPair {
  good: LeafPath;
  bad: LeafPath;
}

export function passesAlpha(reward: number, alpha: number): boolean {
  return alpha >= 1 ? reward >= 1 - REWARD_TOLERANCE : reward > alpha + REWARD_TOLERANCE;
}

export interface PairThresholds {
  alpha: number;
  beta: number;
  rule?: 'gap' | 'band';
}

export function isValidPair(goodReward: number, badReward: number, thresholds: PairThresholds): boolean {
  const { alpha, beta, rule = 'gap' } = thresholds;
  if (!passesAlpha(goodReward, alpha)) return false;
  if (rule === 'band') return badReward < beta - REWARD_TOLERANCE && goodReward > beta + REWARD_TOLERANCE;
  return goodReward - badReward > beta + REWARD_TOLERANCE;
}

/** Highest reward first; ties keep depth-first order (the reference sorts the same way). */
function byRewardDescending(paths: readonly LeafPath[]): LeafPath[] {
  return paths
    .map((path, order) => ({ path, order }))
    .sort((a, b) => b.path.reward - a.path.reward || a.order - b.order)
    .map((entry) => entry.path);
}

/** Good trajectories: every leaf path whose reward passes alpha, best first. */
export function goodLeafPaths(leafPaths: readonly LeafPath[], alpha: number): LeafPath[] {
  return byRewardDescending(leafPaths).filter((path) => passesAlpha(path.reward, alpha));
}

/**
 * The ordered (good, bad) pairs of a leaf list, without holding them: leaves sorted best first,
 * each good leaf pairs with a suffix of that list (a lower reward never makes a pair invalid, so a
 * binary search finds where it starts), less itself. Pair `p` of the unshuffled order is found
 * from per-good offsets, so the shuffle moves 4-byte indices instead of pair objects: the same
 * Fisher-Yates draws over the same length give the same order as shuffling the pairs themselves.
 */
export class LeafPairs {
  /** How many pairs there are (before any cap). */
  readonly total: number;
  private readonly sorted: LeafPath[];
  /** Per good leaf: its index in `sorted`, where its valid bad leaves start, its first pair number. */
  private readonly goods: { index: number; lo: number; offset: number }[] = [];

  constructor(leafPaths: readonly LeafPath[], config: PairThresholds) {
    this.sorted = byRewardDescending(leafPaths);
    const n = this.sorted.length;
    let total = 0;
    for (let index = 0; index < n; index++) {
      const good = this.sorted[index]!;
      if (!passesAlpha(good.reward, config.alpha)) continue;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (isValidPair(good.reward, this.sorted[mid]!.reward, config)) hi = mid;
        else lo = mid + 1;
      }
      const count = n - lo - (index >= lo ? 1 : 0);
      if (count > 0) this.goods.push({ index, lo, offset: total });
      total += count;
    }
    this.total = total;
  }

  /** Pair `p` (0 <= p < total) of the unshuffled order. */
  pair(p: number): PathPair {
    let lo = 0;
    let hi = this.goods.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.goods[mid]!.offset <= p) lo = mid;
      else hi = mid - 1;
    }
    const good = this.goods[lo]!;
    let bad = good.lo + (p - good.offset);
    if (good.index >= good.lo && bad >= good.index) bad += 1;
    return { good: this.sorted[good.index]!, bad: this.sorted[bad]! };
  }

  /**
   * The pair numbers in the seeded order for `task`, capped: shuffled as `pairLeafPaths` shuffles
   * its pairs (4 bytes per pair, not a pair object; a cap keeps only its first entries).
   */
  order(seed: number, task: number, maxPairs?: number): Uint32Array {
    if (this.total > 0xffffffff)
      throw new Error(`a task with ${this.total} pairs is more than can be paired`);
    const order = new Uint32Array(this.total);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const rng = createRng(deriveSeed(seed, 'pairs', task));
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return maxPairs === undefined || maxPairs >= order.length ? order : order.slice(0, maxPairs);
  }

  /** The pairs in that order, one at a time. */
  *inOrder(seed: number, task: number, maxPairs?: number): Generator<PathPair> {
    for (const p of this.order(seed, task, maxPairs)) yield this.pair(p);
  }
}

/**
 * All ordered (good, bad) pairs that pass the thresholds, shuffled with a seed derived from
 * `config.seed` and `task`, then capped. Not de-duplicated: one bad path may pair with
 * several good ones (that is where most of the data comes from). Holds every pair: a splice
 * streams them from `LeafPairs` instead.
 */
export function pairLeafPaths(
  leafPaths: readonly LeafPath[],
  configInput: PairingConfigInput,
  task = 0,
): PathPair[] {
  const config = pairingConfigSchema.parse(configInput);
  return [...new LeafPairs(leafPaths, config).inOrder(config.seed, task, config.maxPairsPerTask)];
}

export type TaskSkipReason = 'root-value' | 'no-leaves';

export interface TaskPairs {
  /** Why the task yields nothing, or null. */
  skipped: TaskSkipReason | null;
  leafPaths: LeafPath[];
  pairs: PathPair[];
  goodPaths: LeafPath[];
}

/** The leaf paths a finished tree pairs; a task whose root value is <= 0 is skipped. */
export function taskLeafPaths(tree: TreeFile): { skipped: TaskSkipReason | null; leafPaths: LeafPath[] } {
  if (tree.root.value <= 0) return { skipped: 'root-value', leafPaths: [] };
  const leafPaths = findLeafPaths(tree.root);
  return { skipped: leafPaths.length === 0 ? 'no-leaves' : null, leafPaths };
}

/** Pairs and good paths of one finished tree (every pair held: see `LeafPairs` to stream them). */
export function collectTaskPairs(tree: TreeFile, configInput: PairingConfigInput): TaskPairs {
  const config = pairingConfigSchema.parse(configInput);
  const { skipped, leafPaths } = taskLeafPaths(tree);
  if (skipped) return { skipped, leafPaths, pairs: [], goodPaths: [] };
  return {
    skipped: null,
    leafPaths,
    pairs: pairLeafPaths(leafPaths, config, tree.task),
    goodPaths: goodLeafPaths(leafPaths, config.alpha),
  };
}
