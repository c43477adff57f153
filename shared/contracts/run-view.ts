import { z } from 'zod';
import { RUN_STATUSES, TASK_STATUSES } from './statuses';

// A run as the API, the dashboard, the CLI and the RunLedger see it: statuses, counters, the run
// view, a task's status and progress. The RunLedger counts, the gateway answers with these shapes,
// the dashboard and the CLI read them: one definition for all of them.

export {
  FINAL_RUN_STATUSES,
  FINAL_TASK_STATUSES,
  isFinalRunStatus,
  isFinalTaskStatus,
  RUN_STATUSES,
  TASK_STATUSES,
} from './statuses';

export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const taskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

const count = z.number().int().nonnegative();

/** What a task counts and a run sums over its tasks. */
const workCounts = {
  nodes: count,
  policyCalls: count,
  judgeCalls: count,
  promptTokens: count,
  completionTokens: count,
  revision: count,
  good: count,
  failedJobs: count,
};

/** A run's totals over its tasks (RunLedger.counters). */
export const runCountersSchema = z.object({
  tasks: count,
  tasksDone: count,
  tasksFailed: count,
  ...workCounts,
  /** The judge calls the reference implementation would have made (it re-judges per pair). */
  referenceJudgeCalls: count,
  /** Env resets and steps (replays included) of every job, and the expansions (0 from older runs). */
  envResets: count.default(0),
  envSteps: count.default(0),
  expansions: count.default(0),
  /** Steps the judge could not judge (marked `failed`). */
  judgeFailures: count.default(0),
  /** Context-length refusals answered by shrinking a prompt and sending it again. */
  contextRetries: count.default(0),
  /** How prompts were counted (server | library | estimate; comma-joined when tasks differ). */
  tokenizer: z.string().nullable().default(null),
  /** The model ids the policy's and the judge's servers reported (comma-joined when tasks differ). */
  policyModel: z.string().nullable().default(null),
  judgeModel: z.string().nullable().default(null),
});
export type RunCounters = z.infer<typeof runCountersSchema>;

/** GET /v1/runs/:id (and every answer that returns a run). */
export const runViewSchema = z.object({
  id: z.string(),
  status: z.string(),
  spec: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
  updatedAt: z.number(),
  completedAt: z.number().nullable(),
  error: z.string().nullable(),
  counters: runCountersSchema.nullable(),
});
export type RunView = z.infer<typeof runViewSchema>;

/**
 * What an unfinished task waits for and since when (GET /v1/runs/:id `waiting`): a slow endpoint
 * shows a job whose consumer keeps beating; a wedged task shows one that nobody works on.
 */
export const taskWaitSchema = z.object({
  task: z.number(),
  status: z.string(),
  /** e.g. "expand job e3 (attempt 2): a consumer is working on it" */
  waitingFor: z.string(),
  /** When the oldest thing it waits for began (ms since the epoch). */
  since: z.number(),
  /** The last sign of life of the consumer of that job (ms since the epoch), if any. */
  lastHeartbeat: z.number().nullable(),
  /** Jobs of the task still open. */
  openJobs: z.number(),
});
export type TaskWait = z.infer<typeof taskWaitSchema>;

/** GET /v1/runs/:id: the run, and per unfinished task (up to 50) what it waits for. */
export const runDetailSchema = runViewSchema.extend({ waiting: z.array(taskWaitSchema) });
export type RunDetail = z.infer<typeof runDetailSchema>;

/** GET /v1/runs: a page of runs, newest first; `next` is the `before` of the next page. */
export const runListSchema = z.object({ runs: z.array(runViewSchema), next: z.number().nullable() });

/** One line of GET /v1/runs/:id/tasks. */
export const taskViewSchema = z.object({
  task: z.number(),
  status: z.string(),
  error: z.string().nullable(),
});
export type TaskView = z.infer<typeof taskViewSchema>;

/** GET /v1/runs/:id/tasks. */
export const taskListSchema = z.object({ tasks: z.array(taskViewSchema) });

/** One entry of GET /v1/runs/:id/trajectories: a revision or good record's index row. */
export const trajectoryRowSchema = z.object({
  id: z.string(),
  task: z.number(),
  kind: z.enum(['revision', 'good']),
  firstErrorStep: z.number().nullable(),
  rewardGood: z.number().nullable(),
  rewardBad: z.number().nullable(),
  turns: z.number(),
  chars: z.number(),
});
export type TrajectoryRow = z.infer<typeof trajectoryRowSchema>;

/** GET /v1/runs/:id/trajectories: a page of index rows; `next` is the `after` of the next page. */
export const trajectoryPageSchema = z.object({
  trajectories: z.array(trajectoryRowSchema),
  next: z.string().nullable(),
});

/** What a TaskTree reports to its RunLedger; counters are totals, so a repeated report is harmless. */
export const taskProgressSchema = z.object({
  status: taskStatusSchema,
  ...workCounts,
  referenceJudgeCalls: count.optional(),
  error: z.string().nullable().optional(),
  /** Env resets and steps of the task's jobs, and its expansions (absent from older trees). */
  envResets: count.optional(),
  envSteps: count.optional(),
  expansions: count.optional(),
  /** Judge jobs that failed for good (their steps are marked `failed`). */
  judgeFailures: count.optional(),
  /** Context-length refusals answered by shrinking a prompt. */
  contextRetries: count.optional(),
  /** How prompts were counted: server | library | estimate. */
  tokenizer: z.string().nullable().optional(),
  /** The model ids the policy's and the judge's servers reported in their completions. */
  policyModel: z.string().nullable().optional(),
  judgeModel: z.string().nullable().optional(),
});
export type TaskProgress = z.infer<typeof taskProgressSchema>;

/** GET /v1/runs/:id/tasks/:task: the task's progress with its pairs and failed jobs. */
export const taskProgressViewSchema = taskProgressSchema.extend({
  task: z.number().int(),
  referenceJudgeCalls: count,
  pairs: count,
  failures: z.array(z.object({ id: z.string(), reason: z.string().nullable() })),
});
export type TaskProgressView = z.infer<typeof taskProgressViewSchema>;

/** RunLedger.status(): the run's status, counters and tasks. */
export interface LedgerStatus {
  status: RunStatus;
  counters: RunCounters;
  tasks: TaskView[];
}

/** The run counts a summary shows (loop views, the run.completed webhook). */
export function runCountsSummary(k: RunCounters) {
  return {
    tasks: k.tasks,
    tasksDone: k.tasksDone,
    tasksFailed: k.tasksFailed,
    nodes: k.nodes,
    revision: k.revision,
    good: k.good,
    policyCalls: k.policyCalls,
    judgeCalls: k.judgeCalls,
  };
}
