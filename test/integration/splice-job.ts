import { env as workerEnv } from 'cloudflare:workers';
import type { SpliceJob } from '../../shared/contracts/jobs';
import { runSpecSchema } from '../../shared/contracts/run-spec';
import { createRng } from '../../shared/random';
import type { NativeRecord } from '../../shared/revision';
import type { CoreBindings } from '../../workers/common/env';
import { taskRecordsKey } from '../../workers/common/storage-keys';
import { randomTree } from '../unit/revision/tree-builder';
import { recordLineReader } from './helpers';

// A splice job run on its own (no TaskTree): the tests of the record files and their D1 index.

export function spliceJob(runId: string, task: number): SpliceJob {
  return {
    kind: 'splice',
    jobId: `splice-${runId}-${task}`,
    attempt: 1,
    runId,
    task,
    spec: runSpecSchema.parse({ tasks: [task] }),
    firstObservation: 'Goal: craft 1 stick.',
  };
}

/** The splice's input as its TaskTree's pages would give it: a random finished tree. */
export const treeInput = (task: number, seed: number) => async () => ({
  tree: randomTree(createRng(seed), task, 6),
  feedback: {},
});

/** The records of one task's file of `kind`, in line order. */
export async function recordsOf(
  runId: string,
  task: number,
  kind: 'revision' | 'good',
): Promise<NativeRecord[]> {
  const bucket = (workerEnv as unknown as CoreBindings).BUCKET;
  const text = await (await bucket.get(taskRecordsKey(runId, task, kind)))!.text();
  return text.split('\n').filter(Boolean).map(recordLineReader());
}
