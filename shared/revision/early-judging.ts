import type { Judgement } from '../contracts/tree-file';
import { stepsAwaitingJudgement } from './first-error';
import { isValidPair, type PairThresholds, passesAlpha } from './pairs';

/** The fields of a flat tree node (shared/mcts's SearchNode has them) that early judging reads. */
export interface FlatTreeNode {
  id: string;
  parentId: string | null;
  childIds: readonly string[];
  terminal: boolean;
  reward: number;
  error: string | null;
  judgement: Judgement;
}

/**
 * The steps to judge now, while the search is still running (`nodes[i].id === String(i)`).
 *
 * During a search leaves are only ever added (a terminal node never gets children), a leaf's
 * reward never changes, and with rewards >= 0 the root's value only grows. So a bad path that
 * pairs with the best good leaf found so far also takes part in a pair of the finished tree
 * (when the pairs are not capped: a capped, shuffled subset is not monotone), and the steps
 * `nodesAwaitingJudgement` asks for on it are the same whenever they are asked for. Judging them
 * now gives the same judged nodes and records as judging after the search, but the calls
 * overlap the search instead of making every task wait for them at its end.
 *
 * Returns nothing while no leaf passes alpha, or if any reward is negative (then the root's
 * value could still fall to <= 0 and the task be skipped).
 */
export function earlyJudgeFrontier(
  nodes: readonly FlatTreeNode[],
  thresholds: PairThresholds,
  block: number,
): string[] {
  const leaves: FlatTreeNode[] = [];
  let bestGood = Number.NEGATIVE_INFINITY;
  for (const node of nodes) {
    if (node.terminal && node.reward < 0) return [];
    // The leaves findLeafPaths pairs: childless terminal steps whose expansion did not fail.
    if (!node.terminal || node.childIds.length > 0 || node.parentId === null || node.error !== null) continue;
    leaves.push(node);
    if (passesAlpha(node.reward, thresholds.alpha)) bestGood = Math.max(bestGood, node.reward);
  }
  if (bestGood === Number.NEGATIVE_INFINITY) return [];
  const awaiting = new Set<string>();
  for (const leaf of leaves) {
    // A path pairs with some good leaf exactly when it pairs with the best one.
    if (!isValidPair(bestGood, leaf.reward, thresholds)) continue;
    for (const step of stepsAwaitingJudgement(stepsTo(nodes, leaf), block)) awaiting.add(step.id);
  }
  return [...awaiting];
}

/** The steps from the root (left out) down to `leaf`, in order. */
function stepsTo(nodes: readonly FlatTreeNode[], leaf: FlatTreeNode): FlatTreeNode[] {
  const steps: FlatTreeNode[] = [];
  // Bounded: a parent always has a smaller id, so the walk ends within nodes.length steps.
  for (let node: FlatTreeNode | undefined = leaf; node?.parentId != null && steps.length <= nodes.length; ) {
    steps.push(node);
    node = nodes[Number(node.parentId)];
  }
  return steps.reverse();
}
