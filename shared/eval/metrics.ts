import { z } from 'zod';
import type { TreeFile } from '../contracts/tree-file';
import { firstErrorOf } from './first-error';
import { findActionLoops, MAX_LOOP_LENGTH } from './loops';
import { revisionMatcher } from './revisions';
import { type EvalTrajectory, greedyTrajectory } from './trajectory';

// The evaluation metrics of agent-r.md s.6-7, computed from eval trees (one greedy rollout per
// task): success rate, average reward, repeated-action loops, self-revisions, position of the first
// error, and the recovery test. Pure code: the API calls it on the trees of finished eval runs.

/** A task counts as solved when its reward reaches this (TextCraft success; WebShop/SciWorld full score). */
export const SUCCESS_REWARD = 1;

const rate = z.number().min(0).max(1);

export const taskResultSchema = z.object({
  task: z.number().int(),
  /** False when the rollout was cut short by an infrastructure failure or never ran. */
  scored: z.boolean(),
  reward: z.number(),
  success: z.boolean(),
  steps: z.number().int(),
  /** Unit lengths of the loops found (empty: no loop). */
  loopLengths: z.array(z.number().int()),
  revisions: z.number().int(),
  firstErrorStep: z.number().int().nullable(),
  firstErrorSource: z.enum(['judgement', 'observation']).nullable(),
});
export type TaskResult = z.infer<typeof taskResultSchema>;

export const recoveryMetricsSchema = z.object({
  /** Failed trajectories cut and handed back to the policy. */
  tasks: z.number().int(),
  scored: z.number().int(),
  successes: z.number().int(),
  successRate: rate.nullable(),
  averageReward: z.number().nullable(),
  /** Average number of replayed steps before the policy took over. */
  averageCutStep: z.number().nullable(),
  perTask: z.array(
    z.object({
      task: z.number().int(),
      cutStep: z.number().int(),
      reward: z.number(),
      success: z.boolean(),
      scored: z.boolean(),
    }),
  ),
});
export type RecoveryMetrics = z.infer<typeof recoveryMetricsSchema>;

export const evalMetricsSchema = z.object({
  /** Tasks asked for. */
  tasks: z.number().int(),
  /** Tasks with a finished rollout; the rates below are over these. */
  scored: z.number().int(),
  /** Tasks without one (the run's failures), listed so they are never silently dropped. */
  unscoredTasks: z.array(z.number().int()),
  successes: z.number().int(),
  successRate: rate.nullable(),
  averageReward: z.number().nullable(),
  /**
   * The average reward on the paper's 0-100 scale (reward x 100): SciWorld's own score (the server
   * reports 0..100, which the client divides by 100; a failed episode, -100, counts 0 as in the
   * reference), WebShop's reward x 100, TextCraft's success rate in percent. Absent in evals scored
   * before it existed.
   */
  averageScore: z.number().min(0).max(100).nullable().optional(),
  averageSteps: z.number().nullable(),
  loops: z.object({
    /** Trajectories containing a repeated action sequence of length 1-4. */
    trajectories: z.number().int(),
    share: rate.nullable(),
    /** Loops found in all (a trajectory may hold several). */
    occurrences: z.number().int(),
    /** Trajectories with a loop of each unit length ("1".."4"). */
    byLength: z.record(z.string(), z.number().int()),
  }),
  revisions: z.object({
    /** Responses that are reflections (revision sentence, `Action: wait`, self-correction). */
    responses: z.number().int(),
    /** ... as a share of all responses. */
    responseShare: rate.nullable(),
    trajectories: z.number().int(),
    share: rate.nullable(),
  }),
  firstError: z.object({
    /** Average 1-based step of the first error over failed trajectories where one was found. */
    averageStep: z.number().nullable(),
    count: z.number().int(),
    fromJudgements: z.number().int(),
    fromObservations: z.number().int(),
  }),
  recovery: recoveryMetricsSchema.nullable(),
  perTask: z.array(taskResultSchema),
});
export type EvalMetrics = z.infer<typeof evalMetricsSchema>;

export interface MetricsOptions {
  successReward?: number;
  /** The run's own revision sentences, recognised besides the default pool. */
  revisionSentences?: readonly string[];
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
const ratio = (n: number, d: number) => (d === 0 ? null : n / d);
/** A reward in [0, 1] on the paper's 0-100 scale, rounded to 2 decimals. */
export const onPaperScale = (reward: number | null) =>
  reward === null ? null : Math.round(Math.min(1, Math.max(0, reward)) * 10_000) / 100;

/** One task's numbers from its trajectory (null trajectory: the task has no tree). */
export function scoreTrajectory(
  task: number,
  trajectory: EvalTrajectory | null,
  options: MetricsOptions = {},
): TaskResult {
  const threshold = options.successReward ?? SUCCESS_REWARD;
  if (!trajectory?.finished) {
    return {
      task,
      scored: false,
      reward: trajectory?.reward ?? 0,
      success: false,
      steps: trajectory?.steps.length ?? 0,
      loopLengths: [],
      revisions: 0,
      firstErrorStep: null,
      firstErrorSource: null,
    };
  }
  const isRevision = revisionMatcher(options.revisionSentences);
  const success = trajectory.reward >= threshold;
  const loops = findActionLoops(trajectory.steps.map((s) => s.action));
  const firstError = success ? null : firstErrorOf(trajectory.steps);
  return {
    task,
    scored: true,
    reward: trajectory.reward,
    success,
    steps: trajectory.steps.length,
    loopLengths: [...new Set(loops.map((l) => l.length))].sort((a, b) => a - b),
    revisions: trajectory.steps.filter((s) => isRevision(s.response)).length,
    firstErrorStep: firstError?.step ?? null,
    firstErrorSource: firstError?.source ?? null,
  };
}

/**
 * Metrics of an eval: `trees` maps each task asked for to its tree (missing: the task never ran or
 * its tree is gone). `recovery`, when the eval ran the recovery test, gives the continuation trees
 * with the step each was cut at.
 */
export function computeEvalMetrics(
  tasks: readonly number[],
  trees: ReadonlyMap<number, TreeFile>,
  options: MetricsOptions & {
    recovery?: { tasks: readonly { task: number; cutStep: number }[]; trees: ReadonlyMap<number, TreeFile> };
  } = {},
): EvalMetrics {
  const perTask: TaskResult[] = [];
  let occurrences = 0;
  for (const task of tasks) {
    const tree = trees.get(task);
    const trajectory = tree ? greedyTrajectory(tree) : null;
    const result = scoreTrajectory(task, trajectory, options);
    perTask.push(result);
    if (result.scored && trajectory)
      occurrences += findActionLoops(trajectory.steps.map((s) => s.action)).length;
  }
  const scored = perTask.filter((r) => r.scored);
  const byLength: Record<string, number> = {};
  for (let n = 1; n <= MAX_LOOP_LENGTH; n++)
    byLength[String(n)] = scored.filter((r) => r.loopLengths.includes(n)).length;
  const looping = scored.filter((r) => r.loopLengths.length > 0).length;
  const revisionResponses = scored.reduce((s, r) => s + r.revisions, 0);
  const revising = scored.filter((r) => r.revisions > 0).length;
  const totalResponses = scored.reduce((s, r) => s + r.steps, 0);
  const firstErrors = scored.map((r) => r.firstErrorStep).filter((s): s is number => s !== null);
  const successes = scored.filter((r) => r.success).length;
  const averageReward = mean(scored.map((r) => r.reward));
  return {
    tasks: tasks.length,
    scored: scored.length,
    unscoredTasks: perTask.filter((r) => !r.scored).map((r) => r.task),
    successes,
    successRate: ratio(successes, scored.length),
    averageReward,
    averageScore: onPaperScale(averageReward),
    averageSteps: mean(scored.map((r) => r.steps)),
    loops: { trajectories: looping, share: ratio(looping, scored.length), occurrences, byLength },
    revisions: {
      responses: revisionResponses,
      responseShare: ratio(revisionResponses, totalResponses),
      trajectories: revising,
      share: ratio(revising, scored.length),
    },
    firstError: {
      averageStep: mean(firstErrors),
      count: firstErrors.length,
      fromJudgements: scored.filter((r) => r.firstErrorSource === 'judgement').length,
      fromObservations: scored.filter((r) => r.firstErrorSource === 'observation').length,
    },
    recovery: options.recovery
      ? recoveryMetrics(options.recovery.tasks, options.recovery.trees, options)
      : null,
    perTask,
  };
}

/** The recovery test: how often the policy completes a failed trajectory cut at a random step. */
export function recoveryMetrics(
  tasks: readonly { task: number; cutStep: number }[],
  trees: ReadonlyMap<number, TreeFile>,
  options: MetricsOptions = {},
): RecoveryMetrics {
  const threshold = options.successReward ?? SUCCESS_REWARD;
  const perTask = tasks.map(({ task, cutStep }) => {
    const tree = trees.get(task);
    const trajectory = tree ? greedyTrajectory(tree) : null;
    const scored = trajectory?.finished ?? false;
    const reward = scored ? (trajectory?.reward ?? 0) : 0;
    return { task, cutStep, reward, success: scored && reward >= threshold, scored };
  });
  const scored = perTask.filter((t) => t.scored);
  const successes = scored.filter((t) => t.success).length;
  return {
    tasks: tasks.length,
    scored: scored.length,
    successes,
    successRate: ratio(successes, scored.length),
    averageReward: mean(scored.map((t) => t.reward)),
    averageCutStep: mean(tasks.map((t) => t.cutStep)),
    perTask,
  };
}
