import { z } from 'zod';

// What the search asks of an expander and what it expects back. Plain data, so a request
// can travel through a queue / RPC and be re-sent after a restart.

/** One step of a root-to-node path. The root step has empty response and action. */
export const pathStepSchema = z.object({
  response: z.string(),
  action: z.string(),
  observation: z.string(),
});
export type PathStep = z.infer<typeof pathStepSchema>;

export const expansionRequestSchema = z.object({
  /** Deterministic `${nodeId}:${sequence}`; results are accepted once per job id. */
  jobId: z.string(),
  nodeId: z.string(),
  /** Depth of the node to expand (root 0). */
  depth: z.number().int().nonnegative(),
  /**
   * Root first, then every step down to and including the node to expand: enough to rebuild
   * the conversation (first observation, then response/observation turns) and to restore the
   * environment by reset + replaying `path.slice(1).map(s => s.action)`.
   */
  path: z.array(pathStepSchema).min(1),
  /** Policy samples to draw (children are de-duplicated by response text on arrival). */
  width: z.number().int().positive(),
});
export type ExpansionRequest = z.infer<typeof expansionRequestSchema>;

/** A sampled response and what the environment did with its action: an expansion's child, a tree node. */
export const stepOutcomeShape = {
  response: z.string(),
  action: z.string(),
  /** The action as the policy wrote it, when the env client sent another (SciWorld mapping). */
  rawAction: z.string().optional(),
  observation: z.string(),
  /** Normalised reward in [0, 1]. */
  reward: z.number(),
  done: z.boolean(),
};

/** One sampled response and what the environment did with its action. */
export const expansionChildSchema = z.object({
  ...stepOutcomeShape,
  /** Negative raw reward (a "disaster"): terminal, scored 0. */
  failed: z.boolean().optional(),
});
export type ExpansionChild = z.infer<typeof expansionChildSchema>;

/** The child one environment step makes: reward clamped to [0, 1], a disaster marked `failed`. */
export function childOfStep(
  response: string,
  action: string,
  step: { observation: string; reward: number; done: boolean; failed?: boolean },
): ExpansionChild {
  return {
    response,
    action,
    observation: step.observation,
    reward: Math.min(1, Math.max(0, step.reward)),
    done: step.done,
    ...(step.failed ? { failed: true } : {}),
  };
}
