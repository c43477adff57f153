import type { Judgement, TreeFile, TreeNode } from '../contracts/tree-file';

// An evaluation run is an ordinary run with a greedy spec (iterations 1, width 1, temperature 0):
// its tree is a single chain from the root, i.e. exactly one greedy rollout. These helpers read
// that chain back as a trajectory.

export interface EvalStep {
  /** 1-based step number (the node's depth in the tree). */
  step: number;
  response: string;
  action: string;
  observation: string;
  reward: number;
  judgement: Judgement;
}

export interface EvalTrajectory {
  task: number;
  steps: EvalStep[];
  /** The last step's reward (0 when there is no step). */
  reward: number;
  /**
   * The rollout reached a terminal node on its own (env done, round limit, disaster). False when
   * it was cut short by an infrastructure failure (a node whose expansion failed): such a
   * trajectory says nothing about the policy and is left out of the scores.
   */
  finished: boolean;
}

/** Guard against malformed (cyclic) input; eval chains are at most a few hundred steps. */
const MAX_CHAIN = 100_000;

/**
 * The greedy chain of a tree: from the root, always the first child (the only one in an eval tree).
 */
export function greedyTrajectory(tree: TreeFile): EvalTrajectory {
  const steps: EvalStep[] = [];
  let node: TreeNode = tree.root;
  let guard = 0;
  while (node.children.length > 0 && guard++ < MAX_CHAIN) {
    node = node.children[0] as TreeNode;
    steps.push({
      step: steps.length + 1,
      response: node.response,
      action: node.action,
      observation: node.observation,
      reward: node.reward,
      judgement: node.judgement,
    });
  }
  const failedExpansion = typeof (node as { error?: unknown }).error === 'string';
  const finished = steps.length > 0 && node.terminal && !failedExpansion;
  return { task: tree.task, steps, reward: steps.length > 0 ? node.reward : 0, finished };
}
