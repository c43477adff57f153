import { z } from 'zod';
import { runProvenanceSchema } from './provenance';

/** `manifest.json` of a build (the Contract in DESIGN.md), plus what a trainer wants to know. */
export const runManifestSchema = z.object({
  run_id: z.string(),
  status: z.string(),
  config: z.record(z.string(), z.unknown()),
  counts: z.object({
    tasks: z.number().int(),
    nodes: z.number().int(),
    revision: z.number().int(),
    good: z.number().int(),
    policy_calls: z.number().int(),
    judge_calls: z.number().int(),
    failed_jobs: z.number().int(),
    tasks_failed: z.number().int(),
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    reference_judge_calls: z.number().int(),
    /** Env resets and steps (replays included) of every job, and the number of expansions. */
    env_resets: z.number().int().default(0),
    env_steps: z.number().int().default(0),
    expansions: z.number().int().default(0),
    /** Steps the judge could not judge (marked `failed` in the trees and records). */
    judge_failures: z.number().int().default(0),
    /** Context-length refusals answered by shrinking a prompt and sending it again. */
    context_retries: z.number().int().default(0),
  }),
  /** Env cost per expansion (root jobs included in the totals); null before the first expansion. */
  env_per_expansion: z.object({ resets: z.number(), steps: z.number() }).nullable().default(null),
  /**
   * How prompt tokens were counted: `server` (the endpoint's /tokenize),
   * `library:<package>:<encoding>` (a tokenizer library matched to the model's family, e.g.
   * `library:llama3-tokenizer-js:llama3`) or `estimate` (about 4 characters per token);
   * comma-joined when tasks differ.
   */
  tokenizer: z.string().nullable().default(null),
  /** What a user must know about the data (e.g. judge failures), in plain sentences. */
  warnings: z.array(z.string()).default([]),
  model: z.string(),
  thresholds: z.object({ alpha: z.number(), beta: z.number(), transition: z.enum(['model', 'end']) }),
  seed: z.number().int(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
  failures: z.array(z.object({ task: z.number().int(), reason: z.string() })),
  /** Where the data came from (shared/contracts/provenance.ts); absent from older stacks. */
  provenance: runProvenanceSchema.optional(),
});
export type RunManifest = z.infer<typeof runManifestSchema>;

/** The manifest's plain-sentence warnings for a run's counters. */
export function runWarnings(counts: { judge_failures: number; context_retries: number }): string[] {
  const warnings: string[] = [];
  if (counts.judge_failures > 0)
    warnings.push(
      `${counts.judge_failures} step(s) could not be judged (marked "failed"; see revise_feedback): ` +
        'on those bad paths the cut went past them as for Uncertain, so some records may be Direct-Revision-like.',
    );
  return warnings;
}
