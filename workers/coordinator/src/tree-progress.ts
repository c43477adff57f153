import type { TaskProgress } from '../../../shared/contracts/run-view';
import type { TreeMeta } from './tree-meta';

/** What the ledger's run view shows for one task; the failures list names each failed job. */
export type TreeProgress = TaskProgress & {
  referenceJudgeCalls: number;
  pairs: number;
  failures: { id: string; reason: string | null }[];
};

/** A task's progress from its status row, its node count, its failed-job count and the failed jobs (sorted by id). */
export function treeProgress(
  tree: TreeMeta,
  nodes: number,
  failedJobs: number,
  failures: { id: string; reason: string | null }[],
): TreeProgress {
  return {
    status: tree.status,
    nodes,
    policyCalls: tree.policyCalls,
    judgeCalls: tree.judgeCalls,
    promptTokens: tree.promptTokens,
    completionTokens: tree.completionTokens,
    revision: tree.revision,
    good: tree.good,
    failedJobs,
    error: tree.error,
    referenceJudgeCalls: tree.referenceJudgeCalls,
    pairs: tree.pairs,
    failures: failures.map((f) => ({ id: f.id, reason: f.reason })),
    envResets: tree.envResets ?? 0,
    envSteps: tree.envSteps ?? 0,
    expansions: tree.expansions ?? 0,
    judgeFailures: failures.filter((f) => f.id.startsWith('judge:')).length,
    contextRetries: tree.contextRetries ?? 0,
    tokenizer: tree.tokenizer ?? null,
    policyModel: tree.policyModel ?? null,
    judgeModel: tree.judgeModel ?? null,
  };
}
