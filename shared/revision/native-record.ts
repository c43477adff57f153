import { z } from 'zod';
import { runProvenanceSchema } from '../contracts/provenance';
import { isTrained, lossMessageSchema } from './conversation';

/**
 * One judged step as the reference records it. `revision_feedback` is the judge's full reply
 * when the caller kept it (else ''); `judgement` is the label: Good, Bad, Uncertain or Failed (the judge could not be asked; the feedback says why).
 */
export const revisionFeedbackSchema = z.object({
  revision_feedback: z.string(),
  action: z.string(),
  obs: z.string(),
  judgement: z.string(),
});
export type RevisionFeedback = z.infer<typeof revisionFeedbackSchema>;

/**
 * A training record in our native form: the reference's fields (agent-r.md section 5) so its
 * converters keep working, plus ours. Differences from the reference: `task_num` is the task
 * as a string (the reference takes it from a file name), `revise_feedback` is always a list
 * (the reference writes '' for Direct-Revision), `low_log` marks the bad steps loss false
 * (it is a log, never trained), and good records carry every field (`revise: false`).
 */
export const nativeRecordSchema = z.object({
  // Reference fields.
  task_num: z.string(),
  revise_log: z.array(lossMessageSchema),
  high_log: z.array(lossMessageSchema),
  low_log: z.array(lossMessageSchema),
  task_description: z.string(),
  /** True for revision records built with the model-guided cut; false for Direct-Revision and good records. */
  revise: z.boolean(),
  revise_feedback: z.array(revisionFeedbackSchema),
  // Ours.
  id: z.string(),
  kind: z.enum(['revision', 'good']),
  run_id: z.string(),
  task: z.number().int().nonnegative(),
  env: z.string().optional(),
  /** The model that wrote the trajectories: the id its server reported (else the endpoint's name). */
  model: z.string().optional(),
  /** Endpoints, reported model ids, agent-r version and commit, environment, sampling and seed. */
  provenance: runProvenanceSchema.optional(),
  /** t': the last kept bad step (1-based); null for good records. */
  first_error_step: z.number().int().nonnegative().nullable(),
  /** The first good step spliced after the reflection (1-based); null for good records. */
  branch_step: z.number().int().positive().nullable(),
  reward_good: z.number(),
  reward_bad: z.number().nullable(),
  good_leaf: z.string(),
  bad_leaf: z.string().nullable(),
});
export type NativeRecord = z.infer<typeof nativeRecordSchema>;

/** One row per record in D1's trajectory index (the record itself lives in R2). */
export const trajectoryIndexRowSchema = z.object({
  run_id: z.string(),
  task: z.number().int().nonnegative(),
  kind: z.enum(['revision', 'good']),
  id: z.string(),
  env: z.string().nullable(),
  first_error_step: z.number().int().nonnegative().nullable(),
  branch_step: z.number().int().positive().nullable(),
  reward_good: z.number(),
  reward_bad: z.number().nullable(),
  /** Bad steps kept before the reflection (0 for good records). */
  bad_steps: z.number().int().nonnegative(),
  /** Good steps trained on. */
  good_steps: z.number().int().nonnegative(),
  /** Turns in revise_log (the D1 column `turns`). */
  turns: z.number().int().nonnegative(),
  trained_messages: z.number().int().nonnegative(),
  chars: z.number().int().nonnegative(),
});
export type TrajectoryIndexRow = z.infer<typeof trajectoryIndexRowSchema>;

export function indexRowOf(record: NativeRecord): TrajectoryIndexRow {
  const log = record.revise_log;
  const trained = log.filter(isTrained).length;
  const isRevision = record.kind === 'revision';
  return {
    run_id: record.run_id,
    task: record.task,
    kind: record.kind,
    id: record.id,
    env: record.env ?? null,
    first_error_step: record.first_error_step,
    branch_step: record.branch_step,
    reward_good: record.reward_good,
    reward_bad: record.reward_bad,
    bad_steps: isRevision ? (record.first_error_step ?? 0) : 0,
    // A revision record trains the reflection turn plus the good steps.
    good_steps: isRevision ? trained - 1 : trained,
    turns: log.length,
    trained_messages: trained,
    chars: log.reduce((sum, m) => sum + m.content.length, 0),
  };
}
