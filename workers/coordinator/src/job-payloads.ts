import type { AnyJob, SplicePage } from '../../../shared/contracts/jobs';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import { type PathStep, pathSteps, type SearchNode, type SearchState } from '../../../shared/mcts';
import { judgeInputsOnPath, type PairJudgements, pairKeyOfJob } from '../../../shared/revision';
import type { JobRow } from './jobs';
import type { SearchStore } from './search-store';
import type { TreeMeta } from './tree-meta';

/** What a TaskTree knows that a job's payload is made of. */
export interface PayloadSource {
  tree: TreeMeta;
  /** The task's spec (`taskSpec`): its own `startFrom` only, and only the root job gets that. */
  spec: RunSpec;
  prefix: PathStep[];
  search: SearchState | null;
  store: SearchStore;
  pairJudgements: () => PairJudgements;
}

/** The spec without `startFrom`: only the root job replays it, the others never read it. */
function withoutStartFrom(spec: RunSpec): RunSpec {
  const { startFrom: _, ...rest } = spec;
  return rest;
}

/**
 * What a consumer needs to do one job, and no more: an expand job gets its node's path (and env
 * snapshot), a judge job the judged step's path, the root job the task's `startFrom` history.
 */
export function jobPayload(job: JobRow, source: PayloadSource): AnyJob {
  const { tree, prefix } = source;
  const base = { jobId: job.id, attempt: job.attempt, runId: tree.runId, task: tree.task };
  if (job.kind === 'root') {
    return { ...base, spec: source.spec, kind: 'root', nodeId: '0', path: [], snapshot: null };
  }
  const spec = withoutStartFrom(source.spec);
  const search = source.search!;
  if (job.kind === 'expand') {
    // Steps replayed from `startFrom` come between the root and the tree's own steps.
    const [root, ...steps] = pathSteps(search, job.node_id);
    return {
      ...base,
      spec,
      kind: 'expand',
      nodeId: job.node_id,
      path: [root!, ...prefix, ...steps],
      snapshot: source.store.snapshot(job.node_id),
    };
  }
  if (job.kind === 'judge') {
    // The judged step's own path is all it needs (no whole-tree copy per judge call).
    const inputs = judgeInputsOnPath(
      job.node_id,
      pathSteps(search, job.node_id),
      search.nodes[0]!.observation,
    );
    const pairKey = pairKeyOfJob(job.id);
    return {
      ...base,
      spec,
      kind: 'judge',
      nodeId: job.node_id,
      taskDescription: inputs.taskDescription,
      ...(pairKey ? { pairKey } : {}),
      // The replayed `startFrom` steps are part of the judged step's history too.
      history: [...prefix.map(({ action, observation }) => ({ action, observation })), ...inputs.history],
      current: inputs.current,
    };
  }
  return {
    ...base,
    spec,
    kind: 'splice',
    firstObservation: search.nodes[0]!.observation,
    prefix,
    models: {
      ...(tree.policyModel ? { policy: tree.policyModel } : {}),
      ...(tree.judgeModel ? { judge: tree.judgeModel } : {}),
    },
    ...(spec.judgeSampling === 'per-pair' ? { pairJudgements: source.pairJudgements() } : {}),
  };
}

/** Node text counted per page of a splice job's tree (an RPC stays far below its 32 MiB limit). */
const PAGE_CHARS = 2_000_000;

/** Nodes `from`.. of a finished tree, about PAGE_CHARS of text (at least one node), and their feedback. */
export function splicePageOf(search: SearchState, store: SearchStore, from: number): SplicePage {
  const nodes: SearchNode[] = [];
  let chars = 0;
  let at = Math.max(0, from);
  store.loadTexts(at);
  for (; at < search.nodes.length && (nodes.length === 0 || chars < PAGE_CHARS); at++) {
    // A plain copy: a node woken from storage reads its texts through getters.
    const node = { ...search.nodes[at]! };
    if (node.rawAction === undefined) delete node.rawAction;
    nodes.push(node);
    chars += node.response.length + node.action.length + node.observation.length + 300;
  }
  return {
    nodes,
    feedback: nodes.length ? store.feedbackBetween(Math.max(0, from), at - 1) : {},
    next: at < search.nodes.length ? at : null,
  };
}
