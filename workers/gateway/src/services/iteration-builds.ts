import { and, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { iterations, loops } from '../../../../shared/db/schema';
import type { LoopConfig } from '../../../../shared/iterations';
import { type RunSpec, runSpecSchema } from '../../../../shared/contracts/run-spec';
import type { CoreBindings } from '../../../common/env';
import { isFinalRunStatus } from '../../../../shared/contracts/statuses';
import { ASSEMBLING, resumeAssembly, startAssembly } from './iteration-dataset';
import {
  failIteration,
  type IterationBuild,
  type IterationRow,
  iterationBuilds,
  iterationRow,
  loopRow,
  runRow,
} from './loop-rows';
import { newId, startRun } from './runs';
import { runManifestOf } from './run-manifest';
import { handToTrainer } from './trainer';

// The builds of an iteration: one run per build spec of the loop (`build`, or each of `builds`),
// all with the iteration's policy and alpha. When every run has finished the iteration moves on:
// to its trainer with the run's records (single-build loops), or to the dataset step that pools
// all runs into one curated, mixed dataset (loops with `builds` / `dataset`).

/** The run specs of iteration `index`: one per build spec, each with the policy and alpha. */
export function iterationSpecs(
  loopName: string,
  config: LoopConfig,
  index: number,
  policy: string,
  alpha: number,
): IterationBuild[] {
  const builds = config.builds ?? [config.build];
  return builds.map((build, i) => ({
    runId: newId('run'),
    spec: runSpecSchema.parse({
      ...build,
      policy,
      alpha,
      label: `${loopName}: iteration ${index} (alpha ${alpha})${builds.length > 1 ? `, build ${i + 1}/${builds.length}` : ''}`,
    }) as RunSpec,
  }));
}

/** The status of an iteration whose build found nothing to train on. */
export const NO_DATA_STATUS = 'no_data';

/**
 * Builds whose trees hold no (good, bad) pair and no good path have nothing to train: the
 * iteration ends as `no_data` (not an error) and the loop completes with the iteration's policy
 * as its final model, whose evaluation is the iteration's own.
 */
async function endWithoutData(env: CoreBindings, row: IterationRow): Promise<void> {
  const db = drizzle(env.DB);
  const now = Date.now();
  const runIds = iterationBuilds(row).map((b) => b.runId);
  const message =
    `no revision data: build run${runIds.length > 1 ? 's' : ''} ${runIds.join(', ')} found no (good, bad) pair and no good trajectory ` +
    `(alpha ${row.alpha}); nothing to train, so the loop ends with ${row.policyEndpoint} as its final model`;
  const claimed = await db
    .update(iterations)
    .set({ status: NO_DATA_STATUS, error: message, updatedAt: now, completedAt: now })
    .where(and(eq(iterations.id, row.id), eq(iterations.status, 'building')))
    .returning({ id: iterations.id });
  if (claimed.length === 0) return;
  await db
    .update(loops)
    .set({
      status: 'completed',
      finalEndpoint: row.policyEndpoint,
      finalEvalId: row.evalId,
      updatedAt: now,
      completedAt: now,
    })
    .where(and(eq(loops.id, row.loopId), inArray(loops.status, ['running', 'waiting'])));
}

/**
 * Where the iteration's runs are: `pending` while one still runs (a run recorded but never
 * started, after a crash between the writes, is started now), else the first failure or `done`.
 */
async function buildsState(env: CoreBindings, row: IterationRow): Promise<'pending' | 'done' | string> {
  let pending = false;
  for (const build of iterationBuilds(row)) {
    const run = await runRow(env, build.runId);
    if (!run) {
      await startRun(env, build.spec, { id: build.runId, iterationId: row.id });
      pending = true;
    } else if (!isFinalRunStatus(run.status)) pending = true;
    else if (run.status === 'failed' || run.status === 'cancelled')
      return `build run ${run.id} ${run.status === 'failed' ? 'failed on every task' : 'was cancelled'}`;
  }
  return pending ? 'pending' : 'done';
}

/** Moves an iteration on when its build runs have finished (or its dataset is assembled). Idempotent. */
export async function advanceIteration(env: CoreBindings, id: string): Promise<IterationRow | null> {
  const row = await iterationRow(env, id);
  if (row?.status === ASSEMBLING) {
    await resumeAssembly(env, (await loopRow(env, row.loopId))!, row);
    return iterationRow(env, id);
  }
  if (row?.status !== 'building' || !row.runId) return row;
  const state = await buildsState(env, row);
  if (state === 'pending') return row;
  if (state !== 'done') {
    await failIteration(env, id, state);
    return iterationRow(env, id);
  }
  let records = 0;
  for (const build of iterationBuilds(row)) {
    const counts = (await runManifestOf(env, build.runId)).counts;
    records += counts.revision + counts.good;
  }
  if (records === 0) {
    await endWithoutData(env, row);
    return iterationRow(env, id);
  }
  const loop = (await loopRow(env, row.loopId))!;
  if ((loop.config as LoopConfig).dataset) await startAssembly(env, loop, row);
  else await handToTrainer(env, id, 'building');
  return iterationRow(env, id);
}
