import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { runTasks, runs } from '../../../shared/db/schema';
import type { CoordinatorBindings } from '../../common/env';

/**
 * The RunLedger's copies in D1 (for queries across runs). The ledger's own SQLite is the truth;
 * these writes are repeated by its alarm until they land, so each one is idempotent.
 */

export interface TaskRowCopy extends Record<string, SqlStorageValue> {
  status: string;
  nodes: number;
  policy_calls: number;
  judge_calls: number;
  revision: number;
  good: number;
  failed_jobs: number;
  error: string | null;
}

/** Upserts a finished task's counters into run_tasks. */
export async function copyTaskToD1(
  env: CoordinatorBindings,
  runId: string,
  task: number,
  row: TaskRowCopy,
): Promise<void> {
  const values = {
    status: row.status === 'cancelled' ? ('failed' as const) : (row.status as 'done' | 'failed'),
    nodes: row.nodes,
    policyCalls: row.policy_calls,
    judgeCalls: row.judge_calls,
    revisionRecords: row.revision,
    goodRecords: row.good,
    failedJobs: row.failed_jobs,
    error: row.error,
    updatedAt: Date.now(),
  };
  await drizzle(env.DB)
    .insert(runTasks)
    .values({ runId, task, ...values })
    .onConflictDoUpdate({ target: [runTasks.runId, runTasks.task], set: values });
}

export interface RunRowCopy {
  status: 'queued' | 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';
  error: string | null;
  completedAt: number | null;
}

/**
 * Makes D1's run row say what the ledger says; reads first, so an alarm that finds them in
 * agreement writes nothing. Returns false when the run has no D1 row (nothing to copy to).
 */
export async function copyRunToD1(
  env: CoordinatorBindings,
  runId: string,
  run: RunRowCopy,
): Promise<boolean> {
  const db = drizzle(env.DB);
  const [current] = await db
    .select({ status: runs.status, completedAt: runs.completedAt })
    .from(runs)
    .where(eq(runs.id, runId))
    .all();
  if (!current) return false;
  if (current.status === run.status && current.completedAt === run.completedAt) return true;
  await db
    .update(runs)
    .set({
      status: run.status,
      updatedAt: Date.now(),
      ...(run.completedAt !== null ? { completedAt: run.completedAt, error: run.error } : {}),
    })
    .where(eq(runs.id, runId));
  return true;
}
