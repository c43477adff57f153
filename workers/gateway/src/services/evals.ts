import { and, desc, eq, isNull, or } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { evals, iterations, runs } from '../../../../shared/db/schema';
import {
  computeEvalMetrics,
  type EvalCreate,
  type EvalMetrics,
  type EvalPhase,
  type EvalSpec,
  type EvalView,
  evalRunSpec,
  heldOutTasks,
  type RecoveryStart,
  recoveryRunSpec,
  recoveryStarts,
  resolveEvalSpec,
} from '../../../../shared/eval';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import type { TreeFile } from '../../../../shared/contracts/tree-file';
import { type CoreBindings, runLedgerStub, taskTreeStub } from '../../../common/env';
import { type EventBindings, emitEventSafely } from './webhooks';
import { ApiError } from '../../../../shared/contracts/api-error';
import { newId, runReferenceProblem, startRun } from './runs';
import { taskTreeKey } from '../../../common/storage-keys';
import { isFinalRunStatus } from '../../../../shared/contracts/statuses';
import { loadWorld } from '../../../common/worlds';

// Evaluations (agent-r.md s.6): a greedy run of a policy over a task set, optionally followed by
// the recovery test (a second greedy run started from cut failed trajectories), then metrics from
// the trees (shared/eval). advanceEval is an idempotent state machine, moved on by the RunLedger's
// completion hook (onRunFinished) and, as a safety net, whenever the eval is read.

export type EvalStatus = 'running' | 'completed' | 'failed';
export type EvalRow = typeof evals.$inferSelect;

/** The recovery test's cut points, fixed once the source run finished. */
export interface RecoveryPlan {
  sourceRunId: string;
  starts: Omit<RecoveryStart, 'responses' | 'sourceLeafId'>[];
  /** Why there is no recovery run (no failed trajectory to cut), when there is none. */
  note: string | null;
}

export function publicLink(env: CoreBindings, path: string, base?: string | null): string {
  const root = (base ?? (env as EventBindings).PUBLIC_URL ?? '').replace(/\/+$/, '');
  return `${root}${path}`;
}

async function runRow(env: CoreBindings, id: string) {
  return (await drizzle(env.DB).select().from(runs).where(eq(runs.id, id)).get()) ?? null;
}

async function evalTasks(env: CoreBindings, input: EvalCreate): Promise<number[]> {
  if (input.tasks) return input.tasks;
  // Crafting without tasks: the world's held-out goals (schema: agentgym always has tasks).
  const world = await loadWorld(env, input.world);
  if (!world) throw new ApiError(400, 'unknown_world', `unknown world "${input.world}"`);
  return heldOutTasks(world.goals.length);
}

function sameEnvironment(a: RunSpec, b: RunSpec): boolean {
  if (a.env !== b.env) return false;
  return a.env === 'crafting' ? a.world === b.world : a.flavor === b.flavor && a.envServer === b.envServer;
}

/** Validates the request, records the eval and starts its greedy run. Returns the eval's id. */
export async function createEval(env: CoreBindings, input: EvalCreate): Promise<string> {
  const db = drizzle(env.DB);
  const spec: EvalSpec = resolveEvalSpec(input, await evalTasks(env, input));
  const id = newId('eval');
  const runId = newId('run');
  const runSpec = evalRunSpec(id, spec);
  const problem = await runReferenceProblem(env, runSpec);
  if (problem) throw new ApiError(400, problem.code, problem.message);
  if (input.iterationId) {
    const iteration = await db.select().from(iterations).where(eq(iterations.id, input.iterationId)).get();
    if (!iteration) throw new ApiError(404, 'not_found', `iteration ${input.iterationId} not found`);
  }
  let sourceRunId: string | null = null;
  if (spec.recovery) {
    sourceRunId = spec.recovery.fromRun ?? runId;
    if (spec.recovery.fromRun) {
      const source = await runRow(env, spec.recovery.fromRun);
      if (!source) throw new ApiError(404, 'not_found', `run ${spec.recovery.fromRun} not found`);
      if (!sameEnvironment(source.spec as RunSpec, runSpec)) {
        throw new ApiError(
          400,
          'incompatible_run',
          `run ${spec.recovery.fromRun} played another environment; the recovery test replays its steps`,
        );
      }
    }
  }
  await db.insert(evals).values({
    id,
    iterationId: input.iterationId ?? null,
    status: 'running',
    spec,
    runId,
    recoverySourceRunId: sourceRunId,
    createdAt: Date.now(),
  });
  await startRun(env, runSpec, { id: runId });
  await advanceEval(env, id);
  return id;
}

/**
 * Trees of a run's tasks: the file the splicer wrote to R2, else the TaskTree's live tree (a task
 * that failed before splicing). Parsed loosely on purpose: the optional `error`/`failed` node
 * fields must survive (a strict parse would strip them).
 */
export async function loadRunTrees(
  env: CoreBindings,
  runId: string,
  tasks: readonly number[],
): Promise<Map<number, TreeFile>> {
  const out = new Map<number, TreeFile>();
  const chunk = 16;
  for (let i = 0; i < tasks.length; i += chunk) {
    await Promise.all(
      tasks.slice(i, i + chunk).map(async (task) => {
        let tree: TreeFile | null = null;
        const stored = await env.BUCKET.get(taskTreeKey(runId, task));
        if (stored) tree = (await stored.json()) as TreeFile;
        if (!tree?.root) tree = await taskTreeStub(env, runId, task).treeFile();
        if (tree?.root && Array.isArray(tree.root.children)) out.set(task, tree);
      }),
    );
  }
  return out;
}

async function planRecovery(env: CoreBindings, row: EvalRow, spec: EvalSpec): Promise<void> {
  const db = drizzle(env.DB);
  const sourceRunId = row.recoverySourceRunId!;
  const source = await runRow(env, sourceRunId);
  const sourceTasks = ((source?.spec as RunSpec | undefined)?.tasks ?? []).filter((t) =>
    spec.tasks.includes(t),
  );
  const trees = await loadRunTrees(env, sourceRunId, sourceTasks);
  const starts = recoveryStarts([...trees.values()], {
    cutSeed: spec.recovery?.cutSeed ?? 0,
    maxFailedReward: spec.recovery?.maxFailedReward,
  });
  const recoveryRunId = starts.length > 0 ? newId('run') : null;
  const plan: RecoveryPlan = {
    sourceRunId,
    starts: starts.map(({ responses: _r, sourceLeafId: _l, ...rest }) => rest),
    note: starts.length > 0 ? null : `run ${sourceRunId} has no failed trajectory among the eval's tasks`,
  };
  // Claimed once: concurrent advances (two runs finishing together) start one recovery run.
  const claimed = await db
    .update(evals)
    .set({ recoveryPlan: plan, recoveryRunId })
    .where(and(eq(evals.id, row.id), eq(evals.status, 'running'), isNull(evals.recoveryPlan)))
    .returning({ id: evals.id });
  if (claimed.length === 0 || !recoveryRunId) return;
  await startRun(env, recoveryRunSpec(row.id, spec, starts), { id: recoveryRunId });
}

/** The recovery run's row went missing between the claim and its start (a crash): start it again. */
async function restartRecoveryRun(env: CoreBindings, row: EvalRow, spec: EvalSpec): Promise<void> {
  const plan = row.recoveryPlan as RecoveryPlan;
  const trees = await loadRunTrees(
    env,
    plan.sourceRunId,
    plan.starts.map((s) => s.task),
  );
  const starts = recoveryStarts([...trees.values()], {
    cutSeed: spec.recovery?.cutSeed ?? 0,
    maxFailedReward: spec.recovery?.maxFailedReward,
  });
  await startRun(env, recoveryRunSpec(row.id, spec, starts), { id: row.recoveryRunId! });
}

async function scoreEval(env: CoreBindings, row: EvalRow, spec: EvalSpec): Promise<EvalMetrics> {
  const trees = await loadRunTrees(env, row.runId!, spec.tasks);
  const plan = row.recoveryPlan as RecoveryPlan | null;
  const recovery = plan
    ? {
        tasks: plan.starts,
        trees: row.recoveryRunId
          ? await loadRunTrees(
              env,
              row.recoveryRunId,
              plan.starts.map((s) => s.task),
            )
          : new Map<number, TreeFile>(),
      }
    : undefined;
  return computeEvalMetrics(spec.tasks, trees, {
    revisionSentences: spec.revisionSentences,
    ...(recovery ? { recovery } : {}),
  });
}

/** The `eval.completed` payload: headline numbers and where to read the rest. */
export function evalCompletedPayload(env: CoreBindings, row: EvalRow, metrics: EvalMetrics, status: string) {
  const spec = row.spec as EvalSpec;
  return {
    evalId: row.id,
    iterationId: row.iterationId,
    status,
    policy: spec.policy,
    env: spec.env === 'crafting' ? `crafting:${spec.world}` : (spec.flavor ?? 'agentgym'),
    tasks: metrics.tasks,
    scored: metrics.scored,
    successRate: metrics.successRate,
    averageReward: metrics.averageReward,
    loopShare: metrics.loops.share,
    revisionShare: metrics.revisions.share,
    firstErrorStep: metrics.firstError.averageStep,
    recoverySuccessRate: metrics.recovery?.successRate ?? null,
    runId: row.runId,
    recoveryRunId: row.recoveryRunId,
    links: { eval: publicLink(env, `/v1/evals/${encodeURIComponent(row.id)}`) },
  };
}

/**
 * Moves an eval on as far as its runs allow: plans and starts the recovery run once the source
 * run finished, scores it once every run finished. Safe to call any number of times, concurrently.
 */
export async function advanceEval(env: CoreBindings, id: string): Promise<EvalRow | null> {
  const db = drizzle(env.DB);
  const row = await db.select().from(evals).where(eq(evals.id, id)).get();
  if (row?.status !== 'running' || !row.runId) return row ?? null;
  const spec = row.spec as EvalSpec;
  const main = await runRow(env, row.runId);
  if (!main) {
    // Recorded but never started (a crash between the two writes): start it now.
    await startRun(env, evalRunSpec(row.id, spec), { id: row.runId });
    return row;
  }
  if (spec.recovery && row.recoveryPlan === null) {
    const source = await runRow(env, row.recoverySourceRunId!);
    if (!source || !isFinalRunStatus(source.status)) return row; // waits for the source run
    await planRecovery(env, row, spec);
    return advanceEval(env, id); // the plan is set now: this goes on to wait or to score
  }
  if (!isFinalRunStatus(main.status)) return row;
  if (row.recoveryRunId) {
    const recovery = await runRow(env, row.recoveryRunId);
    if (!recovery) {
      await restartRecoveryRun(env, row, spec);
      return row;
    }
    if (!isFinalRunStatus(recovery.status)) return row;
  }
  const metrics = await scoreEval(env, row, spec);
  const failed = main.status === 'failed' || main.status === 'cancelled';
  const status: EvalStatus = failed ? 'failed' : 'completed';
  const error = failed
    ? `the eval run ${row.runId} ${main.status === 'cancelled' ? 'was cancelled' : 'failed on every task'}`
    : metrics.unscoredTasks.length
      ? `${metrics.unscoredTasks.length} of ${metrics.tasks} tasks have no finished rollout (see the run's failures)`
      : null;
  const now = Date.now();
  const claimed = await db
    .update(evals)
    .set({ status, metrics, error, completedAt: now })
    .where(and(eq(evals.id, id), eq(evals.status, 'running')))
    .returning({ id: evals.id });
  if (claimed.length > 0)
    await emitEventSafely(env, 'eval.completed', evalCompletedPayload(env, row, metrics, status));
  return (await db.select().from(evals).where(eq(evals.id, id)).get()) ?? null;
}

/** Every open eval that waits on this run (as its own run, its recovery run or its recovery source). */
export async function advanceEvalsOfRun(env: CoreBindings, runId: string): Promise<void> {
  const open = await drizzle(env.DB)
    .select({ id: evals.id })
    .from(evals)
    .where(
      and(
        eq(evals.status, 'running'),
        or(eq(evals.runId, runId), eq(evals.recoveryRunId, runId), eq(evals.recoverySourceRunId, runId)),
      ),
    )
    .all();
  for (const { id } of open) await advanceEval(env, id);
}

async function runProgress(env: CoreBindings, runId: string | null) {
  if (!runId) return null;
  const row = await runRow(env, runId);
  if (!row) return null;
  const ledger = await runLedgerStub(env, runId).status();
  const k = ledger?.counters;
  return {
    status: ledger?.status ?? row.status,
    tasks: row.taskCount,
    finished: (k?.tasksDone ?? 0) + (k?.tasksFailed ?? 0),
  };
}

export async function evalView(env: CoreBindings, row: EvalRow): Promise<EvalView> {
  const spec = row.spec as EvalSpec;
  const plan = row.recoveryPlan as RecoveryPlan | null;
  const [run, recovery] = await Promise.all([
    runProgress(env, row.runId),
    runProgress(env, row.recoveryRunId),
  ]);
  const phase: EvalPhase =
    row.status !== 'running'
      ? 'done'
      : run && !isFinalRunStatus(run.status)
        ? 'evaluating'
        : spec.recovery && !plan
          ? 'waiting_for_source'
          : recovery && !isFinalRunStatus(recovery.status)
            ? 'recovering'
            : 'scoring';
  return {
    id: row.id,
    status: row.status,
    phase,
    iterationId: row.iterationId,
    policy: spec.policy,
    spec,
    runId: row.runId,
    recovery: spec.recovery
      ? {
          sourceRunId: row.recoverySourceRunId,
          runId: row.recoveryRunId,
          tasks: plan ? plan.starts.length : null,
          note: plan?.note ?? null,
        }
      : null,
    progress: { run, recovery },
    metrics: (row.metrics as EvalMetrics | null) ?? null,
    error: row.error,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
  };
}

/** The eval, moved on first if its runs allow (GET is a safety net for a missed completion hook). */
export async function loadEvalView(env: CoreBindings, id: string): Promise<EvalView | null> {
  const row = (await advanceEval(env, id)) ?? null;
  return row ? evalView(env, row) : null;
}

export async function listEvalRows(
  env: CoreBindings,
  filter: { iterationId?: string; limit: number },
): Promise<EvalRow[]> {
  return drizzle(env.DB)
    .select()
    .from(evals)
    .where(filter.iterationId ? eq(evals.iterationId, filter.iterationId) : undefined)
    .orderBy(desc(evals.createdAt))
    .limit(filter.limit)
    .all();
}
