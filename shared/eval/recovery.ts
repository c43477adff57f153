import { findLeafPaths } from '../revision/leaf-paths';
import { createRng, deriveSeed } from '../random';
import type { TreeFile } from '../contracts/tree-file';

// The paper's recovery test (agent-r.md s.6): take failed trajectories, cut each at a random step,
// and let the model continue (up to 50 rounds). The cut prefixes become a run's `startFrom`
// (task id -> policy responses replayed before the search), so the continuation is an ordinary
// greedy eval run.

export const RECOVERY_DEFAULT_ROUNDS = 50;
/**
 * A trajectory counts as failed when its reward is at most this: the paper's test takes reward-0
 * trajectories (it matters where partial rewards are common, WebShop and SciWorld).
 */
export const RECOVERY_DEFAULT_MAX_FAILED_REWARD = 0;
/** RunSpec.startFrom limits: responses per task and characters per response. */
export const MAX_REPLAYED_STEPS = 200;
const MAX_RESPONSE_CHARS = 20_000;

export interface RecoveryStart {
  task: number;
  /** Steps replayed (1-based count) before the policy takes over. */
  cutStep: number;
  /** The policy responses of those steps, in order (RunSpec.startFrom[task]). */
  responses: string[];
  /** Length (steps) and reward of the failed trajectory it was cut from. */
  sourceSteps: number;
  sourceReward: number;
  sourceLeafId: string;
}

export interface RecoveryOptions {
  /** Seeds the choice of failed trajectory (when a tree has several) and of the cut step. */
  cutSeed: number;
  /** Rewards at or below this count as failed (default 0, the paper's). */
  maxFailedReward?: number;
}

/**
 * One cut failed trajectory per tree that has one. A failed trajectory is a finished leaf path
 * whose reward is at most `maxFailedReward` (0 by default); the cut keeps between 1 and (length - 1) steps, so the replayed
 * prefix never contains the step that ended the episode (a one-step trajectory is cut at 0).
 */
export function recoveryStarts(trees: readonly TreeFile[], options: RecoveryOptions): RecoveryStart[] {
  const threshold = options.maxFailedReward ?? RECOVERY_DEFAULT_MAX_FAILED_REWARD;
  const out: RecoveryStart[] = [];
  for (const tree of [...trees].sort((a, b) => a.task - b.task)) {
    const failed = findLeafPaths(tree.root).filter((p) => p.reward <= threshold);
    if (failed.length === 0) continue;
    const rng = createRng(deriveSeed(options.cutSeed, 'recovery', tree.task));
    const path = failed[rng.int(failed.length)]!;
    const steps = path.nodes.slice(1);
    const cutStep = Math.min(MAX_REPLAYED_STEPS, steps.length >= 2 ? 1 + rng.int(steps.length - 1) : 0);
    const responses = steps.slice(0, cutStep).map((n) => n.response);
    if (responses.some((r) => r.length > MAX_RESPONSE_CHARS)) continue;
    out.push({
      task: tree.task,
      cutStep,
      responses,
      sourceSteps: steps.length,
      sourceReward: path.reward,
      sourceLeafId: path.leafId,
    });
  }
  return out;
}

/** The `startFrom` of the recovery run. */
export function startFromOf(starts: readonly RecoveryStart[]): Record<string, string[]> {
  return Object.fromEntries(starts.map((s) => [String(s.task), s.responses]));
}
