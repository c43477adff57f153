import { z } from 'zod';
import type { RunSpec } from './run-spec';

// What a TaskTree hands to a queue consumer for one job, and what comes back (over RPC).

export interface PathStep {
  response: string;
  action: string;
  observation: string;
}

export interface ExpandJob {
  kind: 'root' | 'expand';
  jobId: string;
  attempt: number;
  runId: string;
  task: number;
  spec: RunSpec;
  nodeId: string;
  /** Steps from the root to the node (empty for the root). */
  path: PathStep[];
  /** The env state at the node when the env can snapshot (built-in crafting). */
  snapshot: string | null;
  /** The first observation (empty for a root job). */
  firstObservation: string;
}

export const tokenUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
});
export type TokenUsage = z.infer<typeof tokenUsageSchema>;

export const rootResultSchema = z.object({
  kind: z.literal('root'),
  observation: z.string(),
  snapshot: z.string().nullable(),
});

export const expandedChildSchema = z.object({
  response: z.string(),
  action: z.string(),
  observation: z.string(),
  reward: z.number().min(0).max(1),
  done: z.boolean(),
  failed: z.boolean().optional(),
  snapshot: z.string().nullable(),
});
export type ExpandedChild = z.infer<typeof expandedChildSchema>;

export const expandResultSchema = z.object({
  kind: z.literal('expand'),
  children: z.array(expandedChildSchema),
  usage: tokenUsageSchema,
  policyCalls: z.number().int().nonnegative(),
});

export const jobResultSchema = z.discriminatedUnion('kind', [rootResultSchema, expandResultSchema]);
export type JobResult = z.infer<typeof jobResultSchema>;
