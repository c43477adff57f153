import { z } from 'zod';

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
  }),
  model: z.string(),
  thresholds: z.object({ alpha: z.number(), beta: z.number(), transition: z.enum(['model', 'end']) }),
  seed: z.number().int(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
  failures: z.array(z.object({ task: z.number().int(), reason: z.string() })),
});
export type RunManifest = z.infer<typeof runManifestSchema>;
