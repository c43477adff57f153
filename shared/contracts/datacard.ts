import { z } from 'zod';

// Curation presets and the data card (`datacard.json`) as they travel: run specs, dataset
// requests, manifests and API responses.

/**
 * Named curation presets. `reference` (the default) keeps every record the reference would
 * write; `clean` applies the rules below in this order. The wire field is `curation` in run
 * specs, dataset requests and manifests.
 */
export const curationSchema = z.enum(['reference', 'clean']);
export type Curation = z.infer<typeof curationSchema>;

/** Tunable limits of the `clean` rules (defaults: 32 records of a kind per task, 1 per bad path). */
export const curationSettingsSchema = z
  .object({
    /** `cap-per-task`: records of each kind kept per task (default 32). */
    maxPerTask: z.number().int().min(1).max(1_000_000).optional(),
    /** `shortest-partner`: revision records kept per bad path (default 1). */
    perBadPath: z.number().int().min(1).max(1000).optional(),
  })
  .strict();
export type CurationSettings = z.infer<typeof curationSettingsSchema>;

export const curationRuleNames = [
  'dedupe',
  'no-failure-loops',
  'no-error-repeat',
  'shortest-partner',
  'cap-per-task',
] as const;
export type CurationRuleName = (typeof curationRuleNames)[number];

export const curationStepSchema = z.object({
  rule: z.enum(curationRuleNames),
  before: z.number().int().nonnegative(),
  after: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
});
export type CurationStep = z.infer<typeof curationStepSchema>;

// The data card (`datacard.json`): what a set of training records holds, computed from the
// records themselves. One shape for a run and for an assembled dataset.

const count = z.number().int().nonnegative();

export const distributionSchema = z.object({
  count,
  min: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  /** Histogram: `from` is a bucket's lower bound (inclusive), buckets `width` wide. */
  buckets: z.array(z.object({ from: z.number(), count })),
  width: z.number().positive(),
});
export type Distribution = z.infer<typeof distributionSchema>;

/** The headline numbers, reported for the records before and after curation. */
export const dataSummarySchema = z.object({
  records: count,
  revision: count,
  good: count,
  /** Distinct conversations (turns, texts and trained turns); records - distinct are exact duplicates. */
  distinct: count,
  duplicates: count,
  /** Records whose trained turns repeat an action right after the environment rejected it. */
  loop_records: count,
  /** Revision records whose first trained action repeats the action judged as the error. */
  first_action_repeats_error: count,
});
export type DataSummary = z.infer<typeof dataSummarySchema>;

export const dataCardSchema = z.object({
  version: z.literal(1),
  scope: z.object({ kind: z.enum(['run', 'dataset']), id: z.string() }),
  curation: curationSchema,
  /** Per rule of the preset: records before and after it (empty for `reference`). */
  curation_steps: z.array(curationStepSchema),
  before: dataSummarySchema,
  after: dataSummarySchema,
  /** General chat examples mixed in (datasets only). */
  general: count,
  by_task: z.array(
    z.object({ task: z.number().int(), env: z.string().nullable(), revision: count, good: count }),
  ),
  turns: distributionSchema,
  /** Approximate tokens: characters / 4 (no tokenizer is assumed). */
  tokens: distributionSchema,
  trained_turns: distributionSchema,
  /** t' minus the step where the good path leaves the bad one (revision records). */
  first_error_vs_branch: z.array(z.object({ offset: z.number().int(), count })),
  /** Distinct judged steps by label ('failed': a feedback label that is none of the three). */
  judge_labels: z.object({ good: count, bad: count, uncertain: count, failed: count }),
  trained: z.object({
    actions: count,
    rejected: count,
    rejected_share: z.number(),
    loop_records: count,
    loop_share: z.number(),
    first_action_repeats_error: count,
  }),
  rewards: z.object({ good: distributionSchema, bad: distributionSchema }),
  settings: z.object({
    model: z.string().nullable(),
    judge: z.string().nullable(),
    seed: z.number().int().nullable(),
    alpha: z.number().nullable(),
    beta: z.number().nullable(),
    transition: z.string().nullable(),
    env: z.string().nullable(),
  }),
});
export type DataCard = z.infer<typeof dataCardSchema>;
export type DataCardSettings = DataCard['settings'];
