import { z } from 'zod';
import { seedSchema } from './seed';
import { type RunSpec, type RunSpecInput, runSpecSchema, taskIdsSchema } from './run-spec';
import {
  RECOVERY_DEFAULT_MAX_FAILED_REWARD,
  RECOVERY_DEFAULT_ROUNDS,
  type RecoveryStart,
  startFromOf,
} from '../eval/recovery';
import { evalMetricsSchema } from '../eval/metrics';

// What an evaluation is: a policy run greedily (temperature 0, one sample, one descent) over a
// task set for up to `rounds` steps, optionally followed by the recovery test. Both are ordinary
// runs; this file turns an eval request into their RunSpecs.

/** Round limits of agent-r.md s.6: 100 for AgentGym (the paper), 30 for the built-in crafting world. */
export const DEFAULT_ROUNDS = { agentgym: 100, crafting: 30 } as const;
export const MAX_ROUNDS = 100;

export const recoveryRequestSchema = z
  .object({
    /**
     * The run whose failed trajectories are cut (any finished run on the same environment: an
     * earlier eval's run, a build). Default: this eval's own greedy run.
     */
    fromRun: z.string().min(1).max(100).optional(),
    /** Seeds which failed trajectory is taken and where it is cut. */
    cutSeed: seedSchema.default(0),
    /** Steps the policy gets after the cut (the paper: 50). */
    rounds: z.number().int().min(2).max(MAX_ROUNDS).default(RECOVERY_DEFAULT_ROUNDS),
    /**
     * Trajectories with a reward at or below this are the failed ones that get cut (the paper: 0;
     * e.g. 0.99 takes every unsuccessful one, partial rewards included).
     */
    maxFailedReward: z.number().min(0).max(1).default(RECOVERY_DEFAULT_MAX_FAILED_REWARD),
  })
  .strict();

export const evalCreateSchema = z
  .object({
    /** A registered endpoint's name. */
    policy: z.string().min(1).max(100),
    env: z.enum(['crafting', 'agentgym']).default('crafting'),
    world: z.string().min(1).max(100).default('default'),
    flavor: z.enum(['textcraft', 'webshop', 'sciworld']).optional(),
    envServer: z.string().min(1).max(500).optional(),
    /** Explicit task ids (or the CLI's list syntax "0-19,25"). */
    tasks: taskIdsSchema.optional(),
    /** A named split: `heldout` = the world's held-out goals (crafting only; the default there). */
    split: z.enum(['heldout']).optional(),
    /** Only the first N tasks of the split or list. */
    maxTasks: z.number().int().min(1).max(5000).optional(),
    /** Step limit of each rollout (default 100 for agentgym, 30 for crafting). */
    rounds: z.number().int().min(2).max(MAX_ROUNDS).optional(),
    /** Run the recovery test too (`{}` for the defaults). */
    recovery: recoveryRequestSchema.optional(),
    iterationId: z.string().min(1).max(100).optional(),
    seed: seedSchema.default(0),
    maxTokens: z.number().int().min(1).max(8192).optional(),
    contextTokens: z.number().int().min(512).max(1_000_000).optional(),
    preset: z.enum(['agent-r', 'agentgym']).optional(),
    revisionSentences: z.array(z.string().min(1).max(500)).min(1).max(100).optional(),
    label: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.tasks && spec.split) {
      ctx.addIssue({ code: 'custom', path: ['split'], message: 'give tasks or split, not both' });
    }
    if (spec.env === 'agentgym') {
      if (!spec.envServer)
        ctx.addIssue({ code: 'custom', path: ['envServer'], message: 'env "agentgym" needs envServer' });
      if (!spec.flavor)
        ctx.addIssue({ code: 'custom', path: ['flavor'], message: 'env "agentgym" needs flavor' });
      if (!spec.tasks)
        ctx.addIssue({
          code: 'custom',
          path: ['tasks'],
          message: 'env "agentgym" needs explicit tasks (e.g. the test split: agent-r eval --split FILE)',
        });
    }
  });
export type EvalCreateInput = z.input<typeof evalCreateSchema>;
export type EvalCreate = z.output<typeof evalCreateSchema>;

/** The eval as stored: the request with its task list resolved and its round limit filled in. */
export type EvalSpec = Omit<EvalCreate, 'tasks' | 'rounds'> & { tasks: number[]; rounds: number };

export function resolveEvalSpec(input: EvalCreate, tasks: readonly number[]): EvalSpec {
  const limited = input.maxTasks ? tasks.slice(0, input.maxTasks) : [...tasks];
  return { ...input, tasks: limited, rounds: input.rounds ?? DEFAULT_ROUNDS[input.env] };
}

/** Steps of a rollout = depth + 1 (a child deeper than `depth` is terminal), so depth = rounds - 1. */
export const depthForRounds = (rounds: number) => Math.max(1, rounds - 1);

function greedySpec(spec: EvalSpec, tasks: number[], rounds: number, label: string): RunSpecInput {
  return {
    env: spec.env,
    ...(spec.env === 'crafting' ? { world: spec.world } : { flavor: spec.flavor, envServer: spec.envServer }),
    tasks,
    policy: spec.policy,
    iterations: 1,
    width: 1,
    temperature: 0,
    depth: depthForRounds(rounds),
    transition: 'end',
    parallelism: 1,
    seed: spec.seed,
    ...(spec.maxTokens ? { maxTokens: spec.maxTokens } : {}),
    ...(spec.contextTokens ? { contextTokens: spec.contextTokens } : {}),
    ...(spec.preset ? { preset: spec.preset } : {}),
    ...(spec.revisionSentences ? { revisionSentences: spec.revisionSentences } : {}),
    label,
  };
}

/** The greedy rollout over the eval's tasks (the TaskTree's single descent at width 1). */
export function evalRunSpec(evalId: string, spec: EvalSpec): RunSpec {
  return runSpecSchema.parse(greedySpec(spec, spec.tasks, spec.rounds, `eval ${evalId}`));
}

/** The recovery test: the same greedy rollout, started from each cut failed trajectory. */
export function recoveryRunSpec(evalId: string, spec: EvalSpec, starts: readonly RecoveryStart[]): RunSpec {
  const rounds = spec.recovery?.rounds ?? RECOVERY_DEFAULT_ROUNDS;
  return runSpecSchema.parse({
    ...greedySpec(
      spec,
      starts.map((s) => s.task),
      rounds,
      `eval ${evalId} recovery`,
    ),
    startFrom: startFromOf(starts),
  });
}

/** Where a running eval is: its greedy run, waiting for the recovery source, recovering, scoring. */
export const evalPhaseSchema = z.enum(['evaluating', 'waiting_for_source', 'recovering', 'scoring', 'done']);
export type EvalPhase = z.infer<typeof evalPhaseSchema>;

const runProgressSchema = z
  .object({ status: z.string(), tasks: z.number(), finished: z.number() })
  .nullable();

/** GET /v1/evals/{id} (and the list, POST): the eval, its runs' progress and, once scored, its metrics. */
export const evalViewSchema = z.object({
  id: z.string(),
  status: z.enum(['running', 'completed', 'failed']).or(z.string()),
  phase: evalPhaseSchema,
  iterationId: z.string().nullable(),
  policy: z.string(),
  /** The stored EvalSpec: the request with its tasks resolved and its round limit filled in. */
  spec: z.looseObject({ tasks: z.array(z.number()), rounds: z.number(), policy: z.string() }),
  runId: z.string().nullable(),
  recovery: z
    .object({
      sourceRunId: z.string().nullable(),
      runId: z.string().nullable(),
      tasks: z.number().nullable(),
      note: z.string().nullable(),
    })
    .nullable(),
  progress: z.object({ run: runProgressSchema, recovery: runProgressSchema }),
  metrics: evalMetricsSchema.nullable(),
  error: z.string().nullable(),
  createdAt: z.number(),
  completedAt: z.number().nullable(),
});
export type EvalView = z.infer<typeof evalViewSchema>;

/** GET /v1/evals: newest first. */
export const evalListSchema = z.object({ evals: z.array(evalViewSchema) });
