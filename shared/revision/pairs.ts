import { z } from 'zod';
import type { TreeFile } from '../contracts/tree-file';
import { findLeafPaths, type LeafPath } from './leaf-paths';
import { createSeededRandom, deriveSeed } from './seeded-random';

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
 * All ordered (good, bad) pairs that pass the thresholds, shuffled with a seed derived from
 * `config.seed` and `task`, then capped. Not de-duplicated: one bad path may pair with
 * several good ones (that is where most of the data comes from).
 */
export function pairLeafPaths(
  leafPaths: readonly LeafPath[],
  configInput: PairingConfigInput,
  task = 0,
): PathPair[] {
  const config = pairingConfigSchema.parse(configInput);
  const sorted = byRewardDescending(leafPaths);
  const pairs: PathPair[] = [];
  // Same pairs, same order as checking every (good, bad) in sorted order: for a good path the
  // valid bad ones are a suffix of the sorted list (a lower reward never makes a pair invalid),
  // so a binary search finds where it starts and the loop is linear in the pairs it yields.
  for (const good of sorted) {
    if (!passesAlpha(good.reward, config.alpha)) continue;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isValidPair(good.reward, sorted[mid]!.reward, config)) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < sorted.length; i++) {
      const bad = sorted[i]!;
      if (bad !== good) pairs.push({ good, bad });
    }
  }
  createSeededRandom(deriveSeed(config.seed, 'pairs', task)).shuffle(pairs);
  return config.maxPairsPerTask === undefined ? pairs : pairs.slice(0, config.maxPairsPerTask);
}

export type TaskSkipReason = 'root-value' | 'no-leaves';

export interface TaskPairs {
  /** Why the task yields nothing, or null. */
  skipped: TaskSkipReason | null;
  leafPaths: LeafPath[];
  pairs: PathPair[];
  goodPaths: LeafPath[];
}

/** Pairs and good paths of one finished tree; a task whose root value is <= 0 is skipped. */
export function collectTaskPairs(tree: TreeFile, configInput: PairingConfigInput): TaskPairs {
  const config = pairingConfigSchema.parse(configInput);
  if (tree.root.value <= 0) return { skipped: 'root-value', leafPaths: [], pairs: [], goodPaths: [] };
  const leafPaths = findLeafPaths(tree.root);
  if (leafPaths.length === 0) return { skipped: 'no-leaves', leafPaths, pairs: [], goodPaths: [] };
  return {
    skipped: null,
    leafPaths,
    pairs: pairLeafPaths(leafPaths, config, tree.task),
    goodPaths: goodLeafPaths(leafPaths, config.alpha),
  };
}
