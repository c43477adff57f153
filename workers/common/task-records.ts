import { getTableName } from 'drizzle-orm';
import { trajectories } from '../../shared/db/schema';
import type { CoreBindings } from './env';
import { taskRecordsKey, taskTreeKey } from './storage-keys';

/** Deletes one task's D1 index rows (?1 run id, ?2 task). */
export const DELETE_TASK_ROWS_SQL = `DELETE FROM "${getTableName(trajectories)}" WHERE "${trajectories.runId.name}" = ?1 AND "${trajectories.task.name}" = ?2`;

/**
 * Takes back what a splice wrote for one task: its record files, tree file and index rows. The
 * splicer calls it when its result is refused; the TaskTree when a cancel found records of an
 * attempt that was never accepted (see coordinator/src/tree-writes.ts).
 */
export async function removeTaskRecords(env: CoreBindings, runId: string, task: number): Promise<void> {
  await env.BUCKET.delete([
    taskRecordsKey(runId, task, 'revision'),
    taskRecordsKey(runId, task, 'good'),
    taskTreeKey(runId, task),
  ]);
  await env.DB.prepare(DELETE_TASK_ROWS_SQL).bind(runId, task).run();
}
