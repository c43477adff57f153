import type { ChatMessage } from '../chat';
import type { RunProvenance } from '../contracts/provenance';
import type { TreeNode } from '../contracts/tree-file';
import { type LossMessage, REVISION_ACK, revisionTurn, rootPrefixTurns, stepTurns } from './conversation';
import type { Transition } from './first-error';
import type { LeafPath } from './leaf-paths';
import type { NativeRecord, RevisionFeedback } from './native-record';
import { stableHash } from './stable-hash';

// Splicing (agent-r.md sections 2 and 5). Steps are numbered from 1; nodes[0] is the root.
//   revision = root prefix + bad steps 1..t' (not trained) + reflection (trained) + "ok."
//              + good steps from the branch point (trained)
// The environment is never rolled back: the splice is text only and the reflection turn
// stands for the rollback. The good suffix resumes where the good path first differs from
// the kept bad log: the branch point t+1, or t'+1 when t' lies inside the shared prefix.

/** Where the records come from and what they are about. */
export interface RecordContext {
  runId: string;
  task: number;
  /** The conversation before the first action: system?, instruction, acknowledgement, first observation. */
  rootPrefix: readonly ChatMessage[];
  env?: string;
  model?: string;
  /** Where the records come from (endpoints, reported models, version, environment, sampling). */
  provenance?: RunProvenance;
  /** Defaults to the first observation (the root node's), as in the reference. */
  taskDescription?: string;
}

/**
 * The first step where the good path differs from the bad path, compared by response text
 * as the reference compares logs (identical text means an identical conversation).
 */
export function branchStep(good: readonly TreeNode[], bad: readonly TreeNode[]): number {
  let step = 1;
  while (step < good.length && step < bad.length && good[step]?.response === bad[step]?.response) step++;
  return step;
}

/** First good step spliced after the reflection, given the cut t'. */
export function goodSuffixStart(good: readonly TreeNode[], bad: readonly TreeNode[], cut: number): number {
  return Math.min(branchStep(good, bad), cut + 1);
}

/** A whole path as a conversation, every step's response trained or not (reference's good log). */
export function pathLog(
  rootPrefix: readonly ChatMessage[],
  nodes: readonly TreeNode[],
  loss: boolean,
): LossMessage[] {
  const log = rootPrefixTurns(rootPrefix);
  for (const node of nodes.slice(1)) log.push(...stepTurns(node, loss));
  return log;
}

export interface RevisionSplice {
  rootPrefix: readonly ChatMessage[];
  good: readonly TreeNode[];
  bad: readonly TreeNode[];
  /** t': the last bad step kept (1..number of bad steps). */
  cut: number;
  sentence: string;
}

/** The revision conversation and the good step it resumes at; null when no good step would remain. */
export function spliceRevisionLog(
  splice: RevisionSplice,
): { log: LossMessage[]; suffixStart: number } | null {
  const { rootPrefix, good, bad, cut, sentence } = splice;
  if (!Number.isInteger(cut) || cut < 1 || cut >= bad.length) {
    throw new RangeError(`cut ${cut} is outside the bad path's steps 1..${bad.length - 1}`);
  }
  const suffixStart = goodSuffixStart(good, bad, cut);
  if (suffixStart >= good.length) return null;
  const log = rootPrefixTurns(rootPrefix);
  for (const node of bad.slice(1, cut + 1)) log.push(...stepTurns(node, false));
  log.push(revisionTurn(sentence), { role: 'user', content: REVISION_ACK });
  for (const node of good.slice(suffixStart)) log.push(...stepTurns(node, true));
  return { log, suffixStart };
}

const judgementLabel = { good: 'Good', bad: 'Bad', uncertain: 'Uncertain', failed: 'Failed' } as const;

/** The judged steps 1..cut in the reference's feedback shape (nothing for Direct-Revision). */
function feedbackOf(
  bad: readonly TreeNode[],
  cut: number,
  transition: Transition,
  feedbackText?: (nodeId: string) => string | undefined,
): RevisionFeedback[] {
  if (transition === 'end') return [];
  return bad
    .slice(1, cut + 1)
    .filter((node) => node.judgement !== null)
    .map((node) => ({
      revision_feedback: feedbackText?.(node.id) ?? '',
      action: node.action,
      obs: node.observation,
      judgement: judgementLabel[node.judgement ?? 'uncertain'],
    }));
}

function sharedFields(ctx: RecordContext, root: TreeNode) {
  return {
    task_num: String(ctx.task),
    task_description: ctx.taskDescription ?? root.observation,
    run_id: ctx.runId,
    task: ctx.task,
    ...(ctx.env === undefined ? {} : { env: ctx.env }),
    ...(ctx.model === undefined ? {} : { model: ctx.model }),
    ...(ctx.provenance === undefined ? {} : { provenance: ctx.provenance }),
  };
}

export interface RevisionChoice {
  transition: Transition;
  cut: number;
  sentence: string;
  /** The judge's full reply for a node, when the caller kept it. */
  feedbackText?: (nodeId: string) => string | undefined;
}

/** A revision record for one (good, bad) pair, or null when the splice leaves no good step. */
export function buildRevisionRecord(
  ctx: RecordContext,
  pair: { good: LeafPath; bad: LeafPath },
  choice: RevisionChoice,
): NativeRecord | null {
  const { good, bad } = pair;
  const spliced = spliceRevisionLog({
    rootPrefix: ctx.rootPrefix,
    good: good.nodes,
    bad: bad.nodes,
    cut: choice.cut,
    sentence: choice.sentence,
  });
  if (!spliced) return null;
  return {
    ...sharedFields(ctx, bad.nodes[0] as TreeNode),
    revise_log: spliced.log,
    high_log: pathLog(ctx.rootPrefix, good.nodes, true),
    low_log: pathLog(ctx.rootPrefix, bad.nodes, false),
    revise: choice.transition === 'model',
    revise_feedback: feedbackOf(bad.nodes, choice.cut, choice.transition, choice.feedbackText),
    id: stableHash(ctx.runId, ctx.task, 'revision', good.leafId, bad.leafId),
    kind: 'revision',
    first_error_step: choice.cut,
    branch_step: spliced.suffixStart,
    reward_good: good.reward,
    reward_bad: bad.reward,
    good_leaf: good.leafId,
    bad_leaf: bad.leafId,
  };
}

/** A good-trajectory record: the whole good path, every response trained. */
export function buildGoodRecord(ctx: RecordContext, good: LeafPath): NativeRecord {
  const log = pathLog(ctx.rootPrefix, good.nodes, true);
  return {
    ...sharedFields(ctx, good.nodes[0] as TreeNode),
    revise_log: log,
    high_log: log.map((m) => ({ ...m })),
    low_log: [],
    revise: false,
    revise_feedback: [],
    id: stableHash(ctx.runId, ctx.task, 'good', good.leafId),
    kind: 'good',
    first_error_step: null,
    branch_step: null,
    reward_good: good.reward,
    reward_bad: null,
    good_leaf: good.leafId,
    bad_leaf: null,
  };
}
