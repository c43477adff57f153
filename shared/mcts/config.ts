import { z } from 'zod';

/**
 * Search parameters. Defaults are the reference's (agent-r.md section 3), with
 * `parallelism` 1 so that an unconfigured search follows the reference step by step.
 */
export const searchConfigSchema = z.object({
  /** Descents from the root (the reference's `iterations`, k = 8 in the paper). */
  iterations: z.number().int().min(1).max(10_000).default(8),
  /** Policy samples per expansion before de-duplication (the reference's `n_generate_samples`). */
  width: z.number().int().min(1).max(64).default(4),
  /** A child deeper than this is terminal. */
  maxDepth: z.number().int().min(0).max(1000).default(20),
  /** UCT exploration constant. */
  c: z.number().min(0).max(1000).default(0.25),
  /** Descents in flight at once; 1 reproduces the reference's call sequence. */
  parallelism: z.number().int().min(1).max(256).default(1),
  /** Seeds the tie-break RNG. */
  seed: z.number().int().default(0),
});

export type SearchConfig = z.output<typeof searchConfigSchema>;
export type SearchConfigInput = z.input<typeof searchConfigSchema>;

export const defaultSearchConfig: SearchConfig = searchConfigSchema.parse({});
