import { z } from 'zod';
import { dataCardSchema } from './datacard';
import { datasetCreateSchema } from './datasets';
import { recoveryRequestSchema } from './eval';
import { MAX_ROUNDS } from './eval';
import { runSpecSchema, taskIdsSchema } from './run-spec';

// The iterate-train-evaluate loop (agent-r.md s.6, DESIGN.md "Iterations and evaluation"):
// iteration k builds with policy M_k and alpha_k, its data goes to the trainer (a signed webhook
// with dataset URLs and the manifest), the trainer calls back with M_{k+1}'s endpoint, and
// iteration k+1 starts (automatically, or on POST /v1/iterations/:id/next).

/** The paper's schedule: alpha 0.5, 0.7, 1.0 in iterations 1, 2, 3 (beta stays 0.2). */
export const DEFAULT_ALPHAS = [0.5, 0.7, 1.0] as const;
export const MAX_LOOP_ITERATIONS = 20;
/** Build tasks of a crafting loop when none are given: the first 20 non-held-out goals. */
export const DEFAULT_LOOP_TASKS = 20;

/** Alpha of iteration `index` (1-based); past the end of the schedule the last value repeats. */
export function alphaFor(index: number, alphas: readonly number[]): number {
  if (alphas.length === 0) throw new Error('the alpha schedule is empty');
  return alphas[Math.min(index, alphas.length) - 1] as number;
}

/** Build settings every iteration shares (a RunSpec without policy, judge and alpha). */
export const loopBuildSchema = z
  .object(runSpecSchema.shape)
  .omit({ policy: true, judge: true, alpha: true, startFrom: true })
  .partial()
  .strict()
  .extend({
    tasks: taskIdsSchema.optional(),
  });
export type LoopBuild = z.output<typeof loopBuildSchema>;

/**
 * One of a loop's `builds`: the fields it sets on top of `build`. The RunSpec fields lose their
 * defaults here, so a field left out keeps `build`'s value instead of being reset to the default.
 */
const runSpecFieldsWithoutDefaults = Object.fromEntries(
  Object.entries(runSpecSchema.shape).map(([key, field]) => [
    key,
    field instanceof z.ZodDefault ? field.unwrap() : field,
  ]),
) as unknown as typeof runSpecSchema.shape;
export const loopBuildOverrideSchema = z
  .object(runSpecFieldsWithoutDefaults)
  .omit({ policy: true, judge: true, alpha: true, startFrom: true })
  .partial()
  .strict()
  .extend({
    tasks: taskIdsSchema.optional(),
  });

/** At most this many build specs pooled in one iteration (`builds`). */
export const MAX_LOOP_BUILDS = 8;

/**
 * How an iteration assembles ONE dataset from all its builds' runs (the POST /v1/datasets
 * options): curation preset, de-duplication, user-supplied general chat data at agent share eta
 * (counted in records or tokens), seed and validation split. The dataset is stored in the native
 * format; the trainer downloads it in any export format.
 */
export const loopDatasetSchema = datasetCreateSchema
  .pick({
    kinds: true,
    eta: true,
    etaBasis: true,
    generalChatKey: true,
    dedupe: true,
    curation: true,
    curationOptions: true,
    seed: true,
    validationFraction: true,
  })
  .strict();
export type LoopDataset = z.output<typeof loopDatasetSchema>;

export const loopEvalSchema = z
  .object({
    tasks: taskIdsSchema.optional(),
    split: z.enum(['heldout']).optional(),
    maxTasks: z.number().int().min(1).max(5000).optional(),
    rounds: z.number().int().min(2).max(MAX_ROUNDS).optional(),
    /**
     * The recovery test in every eval. The failed trajectories are those of the first
     * iteration's eval (the starting model's), so every model is tested on the same cuts.
     */
    recovery: z.union([z.boolean(), recoveryRequestSchema.omit({ fromRun: true })]).optional(),
  })
  .strict();
export type LoopEval = z.output<typeof loopEvalSchema>;

export const loopCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    /** The starting model: a registered endpoint's name. */
    policy: z.string().min(1).max(100).default('sim'),
    /** Build settings of every iteration (with `builds`: the settings each build spec starts from). */
    build: loopBuildSchema.default({}),
    /**
     * Several build specs pooled per iteration (e.g. TextCraft + SciWorld, or two worlds): each is
     * `build` with its own fields on top. Implies `dataset` (its defaults when not given).
     */
    builds: z.array(loopBuildOverrideSchema).min(1).max(MAX_LOOP_BUILDS).optional(),
    /** Assemble one curated, mixed dataset per iteration for the trainer (else: the run's records). */
    dataset: loopDatasetSchema.optional(),
    alphas: z
      .array(z.number().min(0).max(1))
      .min(1)
      .max(MAX_LOOP_ITERATIONS)
      .default([...DEFAULT_ALPHAS]),
    /** Iterations to run (default: one per alpha). */
    iterations: z.number().int().min(1).max(MAX_LOOP_ITERATIONS).optional(),
    /** Where the signed `dataset.ready` webhook of each iteration goes; none: register models by hand. */
    trainerUrl: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
    /** Signs the webhook, the download links and the trainer's callback (write-only). */
    trainerSecret: z.string().min(16).max(256).optional(),
    /** Start the next iteration as soon as the trainer's model is registered (else: POST .../next). */
    auto: z.boolean().default(true),
    /** Evaluate each iteration's policy (and the final model). */
    eval: loopEvalSchema.optional(),
    /** Shorthand for eval.tasks. */
    evalTasks: taskIdsSchema.optional(),
    /** Base URL of this API as the trainer reaches it (default: PUBLIC_URL, else the request's origin). */
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .optional(),
  })
  .strict()
  .superRefine((loop, ctx) => {
    if (loop.trainerUrl && !loop.trainerSecret)
      ctx.addIssue({ code: 'custom', path: ['trainerSecret'], message: 'trainerUrl needs trainerSecret' });
    if (loop.trainerSecret && !loop.trainerUrl)
      ctx.addIssue({ code: 'custom', path: ['trainerUrl'], message: 'trainerSecret without trainerUrl' });
    if (loop.eval?.tasks && loop.evalTasks)
      ctx.addIssue({
        code: 'custom',
        path: ['evalTasks'],
        message: 'give eval.tasks or evalTasks, not both',
      });
  });
export type LoopCreateInput = z.input<typeof loopCreateSchema>;
export type LoopCreate = z.output<typeof loopCreateSchema>;

/** What a loop row's `config` holds (no secret: that is sealed in the trainer's webhook row). */
export interface LoopConfig {
  policy: string;
  /** The (first) build's settings; evals run on its environment. */
  build: LoopBuild & { tasks: number[] };
  /** Every build spec of an iteration, `build` merged in (absent in single-build loops). */
  builds?: (LoopBuild & { tasks: number[] })[];
  /** Dataset assembly per iteration (absent or null: the trainer gets the single run's records). */
  dataset?: LoopDataset | null;
  alphas: number[];
  iterations: number;
  auto: boolean;
  eval: (LoopEval & { recovery?: LoopEval['recovery'] }) | null;
  trainerUrl: string | null;
}

/** The model the trainer hands back (POST /v1/iterations/:id/callback, or .../next by hand). */
export const modelEndpointSchema = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }),
    model: z.string().min(1).max(500),
    apiKey: z.string().min(1).max(2000).optional(),
    maxConcurrency: z.number().int().min(1).max(4096).optional(),
    supportsN: z.boolean().optional(),
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type ModelEndpoint = z.infer<typeof modelEndpointSchema>;

export const callbackBodySchema = z
  .object({
    endpoint: modelEndpointSchema,
    /** Free-form notes from the trainer (checkpoint path, loss, ...), kept on the iteration. */
    notes: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CallbackBody = z.infer<typeof callbackBodySchema>;

/** The `data` of the signed `dataset.ready` delivery a trainer receives. */
export const trainerPayloadSchema = z.object({
  kind: z.literal('agent-r.iteration.dataset'),
  loop: z.object({ id: z.string(), name: z.string(), iterations: z.number().int() }),
  iteration: z.object({ id: z.string(), index: z.number().int(), alpha: z.number() }),
  policy: z.object({ endpoint: z.string(), baseUrl: z.string(), model: z.string() }),
  run: z.object({ id: z.string(), status: z.string(), counts: z.record(z.string(), z.number()) }),
  manifest: z.record(z.string(), z.unknown()),
  /** Signed download links (no token needed) until `expiresAt`: manifest and JSONL per format. */
  downloads: z.object({
    manifest: z.string(),
    datasets: z.record(z.string(), z.string()),
    /** An assembled dataset's validation split per format (when it has one). */
    validation: z.record(z.string(), z.string()).optional(),
    expiresAt: z.string(),
  }),
  /** The same files through the bearer-token API. */
  links: z.object({ manifest: z.string(), datasets: z.record(z.string(), z.string()) }),
  callback: z.object({ url: z.string(), method: z.literal('POST'), body: z.string() }),
  /** The data card of the records in `downloads` (after the build spec's curation). */
  datacard: dataCardSchema.optional(),
  /** Every build run of the iteration (loops with `builds`/`dataset`; `run` is the first). */
  runs: z
    .array(
      z.object({
        id: z.string(),
        env: z.string(),
        status: z.string(),
        counts: z.record(z.string(), z.number()),
      }),
    )
    .optional(),
  /**
   * The dataset assembled from all the runs (loops with `builds`/`dataset`): `manifest`, `datacard`
   * and `downloads` then describe it, not a single run.
   */
  dataset: z
    .object({ id: z.string(), runIds: z.array(z.string()), counts: z.record(z.string(), z.number()) })
    .optional(),
});
export type TrainerPayload = z.infer<typeof trainerPayloadSchema>;

// The loop's views over HTTP (GET /v1/loops, /v1/loops/{id}, /v1/iterations/{id}).

/** An eval as a loop's iteration shows it: status and headline metrics. */
export const evalSummarySchema = z
  .object({
    id: z.string(),
    status: z.string(),
    phase: z.string(),
    tasks: z.number().nullable(),
    scored: z.number().nullable(),
    successRate: z.number().nullable(),
    averageReward: z.number().nullable(),
    loopShare: z.number().nullable(),
    revisionShare: z.number().nullable(),
    firstErrorStep: z.number().nullable(),
    recoverySuccessRate: z.number().nullable(),
  })
  .nullable();

/** GET /v1/iterations/{id}: an iteration with its build's progress and its eval's summary. */
export const iterationViewSchema = z.object({
  id: z.string(),
  loopId: z.string(),
  index: z.number(),
  status: z
    .string()
    .describe(
      'building | assembling (its dataset, loops with builds/dataset) | training | completed | failed | ' +
        'no_data (the build found nothing to train on)',
    ),
  alpha: z.number(),
  parentId: z.string().nullable(),
  policy: z.object({ endpoint: z.string(), baseUrl: z.string().nullable(), model: z.string().nullable() }),
  runId: z.string().nullable(),
  runIds: z.array(z.string()).describe('every build run of the iteration; the first is runId'),
  datasetId: z
    .string()
    .nullable()
    .describe('the dataset assembled from all runs (loops with builds/dataset)'),
  run: z
    .object({
      status: z.string(),
      counts: z
        .object({
          tasks: z.number(),
          tasksDone: z.number(),
          tasksFailed: z.number(),
          nodes: z.number(),
          revision: z.number(),
          good: z.number(),
          policyCalls: z.number(),
          judgeCalls: z.number(),
        })
        .nullable(),
      firstErrorStep: z.number().nullable(),
    })
    .nullable(),
  evalId: z.string().nullable(),
  eval: evalSummarySchema,
  resultEndpoint: z.string().nullable(),
  trainerDelivery: z
    .object({ id: z.string(), status: z.string(), attempts: z.number(), lastError: z.string().nullable() })
    .nullable(),
  notes: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  completedAt: z.number().nullable(),
});

/** GET /v1/loops/{id}: a loop with its iterations (lineage) and final eval. */
export const loopViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string().describe('running | waiting | completed | failed'),
  config: z.record(z.string(), z.unknown()),
  trainer: z.object({ url: z.string(), webhookId: z.string() }).nullable(),
  publicUrl: z.string(),
  iterations: z.array(iterationViewSchema),
  final: z
    .object({ endpoint: z.string(), evalId: z.string().nullable(), eval: evalSummarySchema })
    .nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  updatedAt: z.number(),
  completedAt: z.number().nullable(),
});
export type LoopView = z.infer<typeof loopViewSchema>;
export type IterationView = z.infer<typeof iterationViewSchema>;
export type EvalSummary = NonNullable<z.infer<typeof evalSummarySchema>>;

/** GET /v1/loops: newest first. */
export const loopListSchema = z.object({ loops: z.array(loopViewSchema) });
