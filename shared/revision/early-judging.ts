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

/**
 * `earlyJudgeFrontier` kept up to date event by event instead of recomputed over the whole tree:
 * the same steps (as a set) after every change, for a cost that grows with the bad paths still
 * waiting on verdicts, not with the tree. It relies on what a search guarantees: nodes are only
 * appended, a leaf is a leaf from its creation on (a terminal node never gets children), and a
 * step's verdict, once given, stays. A path with nothing left to judge (all judged, or a Bad
 * before its next block) never needs anything again, so it is dropped; when a better good leaf
 * appears, the leaves it newly pairs with are looked at once.
 */
export class EarlyJudging {
  /** Nodes looked at so far (`nodes[0..scanned)`). */
  private scanned = 0;
  private leaves: FlatTreeNode[] = [];
  private bestGood = Number.NEGATIVE_INFINITY;
  /** Leaves that pair with the best good leaf and still wait on verdicts, in node order. */
  private open: FlatTreeNode[] = [];
  /** Leaves already found resolved (never reopened). */
  private readonly resolved = new Set<string>();
  private negative = false;

  constructor(
    private readonly thresholds: PairThresholds,
    private readonly block: number,
  ) {}

  /** The steps to judge now (`nodes[i].id === String(i)`, the same array each call, grown). */
  frontier(nodes: readonly FlatTreeNode[]): string[] {
    const added: FlatTreeNode[] = [];
    let raised = false;
    for (; this.scanned < nodes.length; this.scanned++) {
      const node = nodes[this.scanned]!;
      if (node.terminal && node.reward < 0) this.negative = true;
      if (!node.terminal || node.childIds.length > 0 || node.parentId === null || node.error !== null)
        continue;
      this.leaves.push(node);
      added.push(node);
      if (passesAlpha(node.reward, this.thresholds.alpha) && node.reward > this.bestGood) {
        this.bestGood = node.reward;
        raised = true;
      }
    }
    if (this.negative || this.bestGood === Number.NEGATIVE_INFINITY) return [];
    if (raised) {
      // Every leaf may pair now: look at all of them once (rare: the best reward only grows).
      const openIds = new Set(this.open.map((leaf) => leaf.id));
      for (const leaf of this.leaves) if (!openIds.has(leaf.id) && this.pairs(leaf)) this.open.push(leaf);
      this.open.sort((a, b) => Number(a.id) - Number(b.id));
    } else {
      for (const leaf of added) if (this.pairs(leaf)) this.open.push(leaf);
    }
    const awaiting = new Set<string>();
    this.open = this.open.filter((leaf) => {
      const steps = stepsAwaitingJudgement(stepsTo(nodes, nodes[Number(leaf.id)]!), this.block);
      if (steps.length === 0) {
        this.resolved.add(leaf.id);
        return false;
      }
      for (const step of steps) awaiting.add(step.id);
      return true;
    });
    return [...awaiting];
  }

  private pairs(leaf: FlatTreeNode): boolean {
    return !this.resolved.has(leaf.id) && isValidPair(this.bestGood, leaf.reward, this.thresholds);
  }
}

/**
 * `nodesAwaitingJudgement` for a fixed list of bad paths (given by their leaves) over a flat
 * tree, dropping each path once it is resolved: a verdict never changes, so a resolved path
 * never asks for anything again and each call costs what the unresolved paths cost.
 */
export class BadPathFrontier {
  private open: string[];

  constructor(
    badLeafIds: readonly string[],
    private readonly block: number,
  ) {
    this.open = [...badLeafIds];
  }

  frontier(nodes: readonly FlatTreeNode[]): string[] {
    const awaiting = new Set<string>();
    this.open = this.open.filter((leafId) => {
      const leaf = nodes[Number(leafId)];
      if (!leaf) throw new Error(`node "${leafId}" of a bad path is not in the tree`);
      const steps = stepsAwaitingJudgement(stepsTo(nodes, leaf), this.block);
      for (const step of steps) awaiting.add(step.id);
      return steps.length > 0;
    });
    return [...awaiting];
  }
}
