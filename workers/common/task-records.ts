import type { CoreBindings } from './env';
import { removeTaskIndex } from './record-index';
import { taskRecordsKey, taskTreeKey } from './storage-keys';

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
  await removeTaskIndex(env.DB, runId, task);
}
