import { z } from 'zod';
import type { PathStep, SearchNode } from '../mcts';
import type { RunSpec } from './run-spec';
import { type Judgement, judgementSchema } from './tree-file';

// What a TaskTree hands to a queue consumer for one job, and what comes back (over RPC).

interface JobBase {
  jobId: string;
  attempt: number;
  runId: string;
  task: number;
  spec: RunSpec;
}

/** Expand a node (or, for `root`, reset the env and report the first observation). */
export interface ExpandJob extends JobBase {
  kind: 'root' | 'expand';
  nodeId: string;
  /** Root first (empty response/action, the first observation), down to the node itself. */
  path: PathStep[];
  /** The env state at the node when the env can snapshot (built-in crafting). */
  snapshot: string | null;
}

/** Judge one step (a node) of a bad path. */
export interface JudgeJob extends JobBase {
  kind: 'judge';
  nodeId: string;
  taskDescription: string;
  history: { action: string; observation: string }[];
  current: { action: string; observation: string };
  /** `judgeSampling: per-pair`: the (good leaf, bad leaf) pair this judgement belongs to. */
  pairKey?: string;
}

/**
 * Splice the finished, judged tree into records. The tree itself is not in the job: the splicer
 * reads it from the TaskTree in pages (`SplicePage`), so no single RPC carries a whole large tree.
 */
export interface SpliceJob extends JobBase {
  kind: 'splice';
  firstObservation: string;
  /** `startFrom` steps replayed before the search: part of every record's conversation. */
  prefix?: PathStep[];
  /** `judgeSampling: per-pair`: each pair's own verdicts (shared/revision/per-pair.ts). */
  pairJudgements?: Record<string, Record<string, Exclude<Judgement, null>>>;
  /** The model ids the policy's and the judge's servers reported for this task (absent: not reported). */
  models?: { policy?: string; judge?: string };
}

/** Consecutive nodes of a finished tree (flat, by id) with the judge feedback kept for them. */
export interface SplicePage {
  nodes: SearchNode[];
  feedback: Record<string, string>;
  /** The id of the first node of the next page; null after the last. */
  next: number | null;
}

export type AnyJob = ExpandJob | JudgeJob | SpliceJob;

export const tokenUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof tokenUsageSchema>;

/** Env calls a job made: resets, and steps (replayed ones included). */
export const envCostSchema = z.object({
  resets: z.number().int().nonnegative(),
  steps: z.number().int().nonnegative(),
});
export type EnvCostCounts = z.infer<typeof envCostSchema>;

export const pathStepSchema = z.object({ response: z.string(), action: z.string(), observation: z.string() });

export const rootResultSchema = z.object({
  kind: z.literal('root'),
  /** The first observation after reset. */
  observation: z.string(),
  /** The env state after the reset and the replayed `startFrom` steps. */
  snapshot: z.string().nullable(),
  /** `startFrom` steps as replayed (empty for a normal build). */
  prefix: z.array(pathStepSchema).default([]),
  envCost: envCostSchema.optional(),
});

export const expandedChildSchema = z.object({
  response: z.string(),
  action: z.string(),
  /** The action as the policy wrote it, when the env client sent another (SciWorld mapping). */
  rawAction: z.string().optional(),
  observation: z.string(),
  reward: z.number().min(0).max(1),
  done: z.boolean(),
  failed: z.boolean().optional(),
  snapshot: z.string().nullable(),
});
export type ExpandedChild = z.infer<typeof expandedChildSchema>;

/** How the prompt was fitted to the model's context (shared/inference/server-info.ts). */
const promptFitFields = {
  /** Context-length refusals answered by shrinking the prompt and sending it again. */
  contextRetries: z.number().int().nonnegative().optional(),
  /** How the prompt's tokens were counted. */
  tokenizer: z
    .union([z.enum(['server', 'estimate']), z.templateLiteral(['library:', z.string()])])
    .optional(),
  /** The model id the server reported in its completions (the `model` field), when it did. */
  model: z.string().max(300).optional(),
};

export const expandResultSchema = z.object({
  kind: z.literal('expand'),
  children: z.array(expandedChildSchema),
  usage: tokenUsageSchema,
  policyCalls: z.number().int().nonnegative(),
  envCost: envCostSchema.optional(),
  ...promptFitFields,
});

export const judgeResultSchema = z.object({
  kind: z.literal('judge'),
  judgement: judgementSchema.unwrap(),
  feedback: z.string(),
  usage: tokenUsageSchema,
  ...promptFitFields,
});

export const spliceResultSchema = z.object({
  kind: z.literal('splice'),
  revision: z.number().int().nonnegative(),
  good: z.number().int().nonnegative(),
  pairs: z.number().int().nonnegative(),
  referenceJudgeCalls: z.number().int().nonnegative(),
  skipped: z.string().nullable(),
});

export const jobResultSchema = z.discriminatedUnion('kind', [
  rootResultSchema,
  expandResultSchema,
  judgeResultSchema,
  spliceResultSchema,
]);
export type JobResult = z.infer<typeof jobResultSchema>;
export type JobResultOf<K extends JobResult['kind']> = Extract<JobResult, { kind: K }>;
