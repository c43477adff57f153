import type { Judgement, TreeFile, TreeNode } from '../contracts/tree-file';
import { indexTree, pathToNode, type LeafPath } from './leaf-paths';
import type { PathPair } from './pairs';

// The model-guided transition point (agent-r.md section 4). The steps of a bad path are
// judged in order until the first Bad; a step's judgement depends only on the path to it,
// so it lives on the tree node and is shared by every pair and bad path through that node.

/** `model`: cut after the first step judged Bad (Agent-R); `end`: keep the whole bad path (Direct-Revision). */
export type Transition = 'model' | 'end';

/** Any path given as its nodes (root first) or as anything carrying node ids. */
export type PathLike = LeafPath | readonly { id: string }[];

function pathIds(path: PathLike): string[] {
  const nodes = 'nodes' in path ? path.nodes : path;
  return nodes.map((node) => node.id);
}

function pathNodes(
  path: LeafPath | readonly Pick<TreeNode, 'judgement'>[],
): readonly Pick<TreeNode, 'judgement'>[] {
  return 'nodes' in path ? path.nodes : path;
}

export interface FirstErrorOptions {
  /** What an unjudged step (judgement null) before any Bad means: an error (default) or Uncertain. */
  unjudged?: 'throw' | 'uncertain';
}

/**
 * t': the index (= step number; index 0 is the root) of the first step judged 'bad', or the
 * last step when none is (then the cut equals Direct-Revision's).
 */
export function firstErrorStep(
  path: LeafPath | readonly Pick<TreeNode, 'judgement'>[],
  options: FirstErrorOptions = {},
): number {
  const nodes = pathNodes(path);
  for (let step = 1; step < nodes.length; step++) {
    const judgement: Judgement = nodes[step]?.judgement ?? null;
    if (judgement === 'bad') return step;
    if (judgement === null && options.unjudged !== 'uncertain') {
      throw new Error(`step ${step} of the bad path is not judged yet; judge it before splicing`);
    }
  }
  return Math.max(0, nodes.length - 1);
}

/** Where the bad path is cut: after t' (model) or at its end (Direct-Revision). */
export function cutStep(
  path: LeafPath | readonly Pick<TreeNode, 'judgement'>[],
  transition: Transition,
  options: FirstErrorOptions = {},
): number {
  return transition === 'end' ? Math.max(0, pathNodes(path).length - 1) : firstErrorStep(path, options);
}

/** The distinct bad paths of a set of pairs, in first-seen order. */
export function uniqueBadPaths(pairs: readonly PathPair[]): LeafPath[] {
  const seen = new Map<string, LeafPath>();
  for (const { bad } of pairs) if (!seen.has(bad.leafId)) seen.set(bad.leafId, bad);
  return [...seen.values()];
}

/**
 * The nodes to judge next on each unresolved bad path. Steps are judged in blocks of `block`
 * consecutive steps (block 1 = one step at a time, as the reference does): a path waits on the
 * unjudged steps of its first block that is not fully judged, unless an earlier block already
 * holds a 'bad' step. Blocks are fixed by step number, so which nodes get judged never depends
 * on the order in which answers arrive; a larger block only trades extra calls for fewer rounds.
 * De-duplicated, in first-seen order. Judgements are read from `tree` (the current state), so the
 * paths may come from an older copy. An empty result means every bad path is resolved.
 */
export function nodesAwaitingJudgement(tree: TreeFile, badPaths: readonly PathLike[], block = 1): TreeNode[] {
  assertBlock(block);
  const byId = indexTree(tree);
  const awaiting = new Map<string, TreeNode>();
  for (const path of badPaths) {
    const steps = pathIds(path)
      .slice(1)
      .map((id) => {
        const node = byId.get(id);
        if (!node) throw new Error(`node "${id}" of a bad path is not in the tree`);
        return node;
      });
    for (const node of stepsAwaitingJudgement(steps, block)) awaiting.set(node.id, node);
  }
  return [...awaiting.values()];
}

function assertBlock(block: number): void {
  if (!Number.isInteger(block) || block < 1) throw new RangeError(`block must be >= 1, got ${block}`);
}

/**
 * One bad path's share of `nodesAwaitingJudgement`: `steps` are its steps in order (the root
 * left out). Returns the unjudged steps of the first block that is not fully judged, or none
 * when an earlier block holds a 'bad' step or every step is judged.
 */
export function stepsAwaitingJudgement<N extends { judgement: Judgement }>(
  steps: readonly N[],
  block: number,
): N[] {
  assertBlock(block);
  for (let start = 0; start < steps.length; start += block) {
    const nodes = steps.slice(start, start + block);
    const unjudged = nodes.filter((node) => node.judgement === null);
    // The whole block, even past a 'bad' step in it: its judgements are already on their way.
    if (unjudged.length > 0) return unjudged;
    if (nodes.some((node) => node.judgement === 'bad')) return [];
  }
  return [];
}

/**
 * What a judge call needs; structurally a `VerifierInput` (../prompts/verifier), so it can be
 * passed straight to `buildVerifierPrompt`.
 */
export interface JudgeInputs {
  nodeId: string;
  /** Step number of the node on its path (1 = first action). */
  step: number;
  /** The task description: the first observation, as in the reference. */
  taskDescription: string;
  /** The previous steps' (action, observation) pairs, oldest first. */
  history: { action: string; observation: string }[];
  current: { action: string; observation: string };
}

/** Inputs for judging node `nodeId`; `taskDescription` defaults to the root's (first) observation. */
export function judgeInputsFor(tree: TreeFile, nodeId: string, taskDescription?: string): JudgeInputs {
  const path = pathToNode(tree, nodeId);
  if (!path) throw new Error(`node "${nodeId}" is not in the tree`);
  return judgeInputsOnPath(nodeId, path, taskDescription ?? tree.root.observation);
}

/** The same from the node's path (root first, the node last), for trees held in another shape. */
export function judgeInputsOnPath(
  nodeId: string,
  path: readonly Pick<TreeNode, 'action' | 'observation'>[],
  taskDescription: string,
): JudgeInputs {
  const node = path[path.length - 1];
  if (!node || path.length < 2) throw new Error('the root is not a step and is never judged');
  return {
    nodeId,
    step: path.length - 1,
    taskDescription,
    history: path.slice(1, -1).map((step) => ({ action: step.action, observation: step.observation })),
    current: { action: node.action, observation: node.observation },
  };
}

/**
 * Judge calls the reference makes on these pairs: per pair, it re-judges the bad path's steps
 * from the first until the first Bad (inclusive) or the end. Needs resolved judgements.
 */
export function referenceJudgeCalls(
  pairs: readonly PathPair[],
  transition: Transition,
  options: FirstErrorOptions = {},
): number {
  if (transition === 'end') return 0;
  let calls = 0;
  for (const { bad } of pairs) calls += firstErrorStep(bad, options);
  return calls;
}

/** Judge calls with per-node sharing: the distinct nodes judged on the pairs' bad paths. */
export function sharedJudgeCalls(
  pairs: readonly PathPair[],
  transition: Transition,
  options: FirstErrorOptions = {},
): number {
  if (transition === 'end') return 0;
  const judged = new Set<string>();
  for (const bad of uniqueBadPaths(pairs)) {
    const last = firstErrorStep(bad, options);
    for (let step = 1; step <= last; step++) {
      const node = bad.nodes[step] as TreeNode;
      // An unjudged step read as Uncertain was never actually judged.
      if (node.judgement !== null) judged.add(node.id);
    }
  }
  return judged.size;
}
