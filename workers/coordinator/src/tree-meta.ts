import type { EnvCostCounts, JobResult } from '../../../shared/contracts/jobs';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import type { TaskStatus } from '../../../shared/contracts/run-view';
import type { PathStep } from '../../../shared/mcts';
import type { JobRow } from './jobs';
import type { MetaStore } from './sql';

/** A TaskTree's status and counters: small, rewritten with every applied result. */
export interface TreeMeta {
  runId: string;
  task: number;
  status: TaskStatus;
  error: string | null;
  policyCalls: number;
  judgeCalls: number;
  referenceJudgeCalls: number;
  promptTokens: number;
  completionTokens: number;
  revision: number;
  good: number;
  pairs: number;
  /** Env resets and steps of the root and expand jobs, and how many expansions (absent in old trees). */
  envResets?: number;
  envSteps?: number;
  expansions?: number;
  /** Context-length refusals answered by shrinking a prompt (older trees: absent). */
  contextRetries?: number;
  /** How prompts were counted (the last job's answer). */
  tokenizer?: string;
  /** The model ids the policy's and the judge's servers reported (the last job's answer). */
  policyModel?: string;
  judgeModel?: string;
}

/** Trees written before the spec and the prefix had their own keys carried them in the row. */
type StoredTreeMeta = TreeMeta & { spec?: RunSpec; prefix?: PathStep[] };

export type JobKind = JobRow['kind'];

/**
 * The spec as one task needs it: the run's task list and the other tasks' `startFrom` histories
 * (up to megabytes in a large run) left out, so neither the tree nor a job carries them.
 */
export function taskSpec(spec: RunSpec, task: number): RunSpec {
  const { startFrom, ...rest } = spec;
  const own = startFrom?.[String(task)];
  return { ...rest, tasks: [task], ...(own ? { startFrom: { [String(task)]: own } } : {}) };
}

/**
 * A TaskTree's record: the status row (cached, written on every change), the task's spec and the
 * replayed `startFrom` steps (each written once, under its own key, so a result never rewrites them).
 */
export class TreeRecord {
  private treeCache: TreeMeta | null | undefined;
  private specCache: RunSpec | undefined;
  private prefixCache: PathStep[] | undefined;

  constructor(private readonly meta: MetaStore) {}

  get tree(): TreeMeta | null {
    if (this.treeCache === undefined) {
      const stored = this.meta.get<StoredTreeMeta>('tree');
      if (stored) {
        const { spec, prefix, ...tree } = stored;
        // An older row: its spec and prefix move to their own keys (idempotent).
        if (spec && !this.meta.get<RunSpec>('spec')) this.meta.set('spec', taskSpec(spec, tree.task));
        if (prefix && !this.meta.get<PathStep[]>('prefix')) this.meta.set('prefix', prefix);
        this.treeCache = tree;
      } else {
        this.treeCache = null;
      }
    }
    return this.treeCache;
  }

  /** The status row, and in the same statement the other values of this change (`also`). */
  save(tree: TreeMeta, also: readonly { key: string; value: unknown }[] = []): void {
    this.treeCache = tree;
    this.meta.setMany([['tree', tree], ...also.map(({ key, value }) => [key, value] as const)]);
  }

  /** Written once, when the task starts. */
  setSpec(spec: RunSpec): void {
    this.specCache = spec;
    this.meta.set('spec', spec);
  }

  get spec(): RunSpec {
    if (this.specCache === undefined) {
      void this.tree;
      const spec = this.meta.get<RunSpec>('spec');
      if (!spec) throw new Error('task tree: no spec stored');
      this.specCache = spec;
    }
    return this.specCache;
  }

  /** Written once, with the root's result. */
  setPrefix(prefix: PathStep[]): void {
    this.prefixCache = prefix;
    this.meta.set('prefix', prefix);
  }

  get prefix(): PathStep[] {
    if (this.prefixCache === undefined) {
      void this.tree;
      this.prefixCache = this.meta.get<PathStep[]>('prefix') ?? [];
    }
    return this.prefixCache;
  }

  /** Drops the cached copies (after a rolled-back change). */
  forget(): void {
    this.treeCache = undefined;
    this.specCache = undefined;
    this.prefixCache = undefined;
  }
}

export function isFinal(tree: TreeMeta): boolean {
  return tree.status === 'done' || tree.status === 'failed' || tree.status === 'cancelled';
}

export function addEnvCost(tree: TreeMeta, cost: EnvCostCounts | undefined): void {
  tree.envResets = (tree.envResets ?? 0) + (cost?.resets ?? 0);
  tree.envSteps = (tree.envSteps ?? 0) + (cost?.steps ?? 0);
}

/** Tallies how a job's prompt was fitted (context retries, the tokenizer used) and who answered. */
export function noteFit(
  tree: TreeMeta,
  result: { contextRetries?: number; tokenizer?: string; model?: string },
  role: 'policy' | 'judge',
): void {
  tree.contextRetries = (tree.contextRetries ?? 0) + (result.contextRetries ?? 0);
  if (result.tokenizer) tree.tokenizer = result.tokenizer;
  if (result.model && role === 'policy') tree.policyModel = result.model;
  if (result.model && role === 'judge') tree.judgeModel = result.model;
}

export const expectedResult: Record<JobKind, JobResult['kind']> = {
  root: 'root',
  expand: 'expand',
  judge: 'judge',
  splice: 'splice',
};

/** One judge job per node: the id makes a step judged once, whichever phase asks for it. */
export function judgeJob(nodeId: string): { id: string; kind: 'judge'; nodeId: string } {
  return { id: `judge:${nodeId}`, kind: 'judge', nodeId };
}
