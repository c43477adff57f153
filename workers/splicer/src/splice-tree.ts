import { and, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { trajectories } from '../../../shared/db/schema';
import type { JobResult, SpliceJob } from '../../../shared/jobs';
import { indexRowOf, type NativeRecord, spliceTask } from '../../../shared/revision';
import { rootPrefixForRun } from '../../../shared/run-conversation';
import type { CoreBindings } from '../../common/env';
import { taskRecordsKey, taskTreeKey } from '../../common/storage-keys';

/** D1 allows at most 100 bound parameters per statement: 10 columns x 8 rows. */
const ROWS_PER_INSERT = 8;

function envLabel(job: SpliceJob): string {
  return job.spec.env === 'crafting' ? `crafting:${job.spec.world}` : (job.spec.flavor ?? 'agentgym');
}

const toJsonl = (records: NativeRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

/**
 * Pairs, cuts and splices one finished tree, then writes the records (R2, one JSONL per kind,
 * replaced whole), the tree file, and the index rows (D1, replaced for this task in one batch).
 * Repeating it gives the same files and rows, so a redelivered job duplicates nothing.
 */
export async function spliceTree(env: CoreBindings, job: SpliceJob): Promise<JobResult> {
  const { spec } = job;
  const result = spliceTask(
    job.tree,
    {
      runId: job.runId,
      rootPrefix: rootPrefixForRun(spec, job.firstObservation),
      env: envLabel(job),
      model: spec.policy,
    },
    {
      alpha: spec.alpha,
      beta: spec.beta,
      seed: spec.seed,
      maxPairsPerTask: spec.maxPairsPerTask,
      transition: spec.transition,
      revisionSentences: spec.revisionSentences,
      unjudged: 'uncertain',
    },
    (nodeId) => job.feedback[nodeId],
  );
  const files = [
    { kind: 'revision' as const, records: result.revision },
    { kind: 'good' as const, records: result.good },
  ];
  await Promise.all([
    ...files.map(({ kind, records }) =>
      env.BUCKET.put(taskRecordsKey(job.runId, job.task, kind), toJsonl(records), {
        httpMetadata: { contentType: 'application/x-ndjson' },
        customMetadata: { records: String(records.length) },
      }),
    ),
    env.BUCKET.put(taskTreeKey(job.runId, job.task), JSON.stringify(job.tree), {
      httpMetadata: { contentType: 'application/json' },
    }),
  ]);

  const db = drizzle(env.DB);
  const rows = files.flatMap(({ kind, records }) =>
    records.map((record, line) => {
      const row = indexRowOf(record);
      return {
        id: row.id,
        runId: row.run_id,
        task: row.task,
        kind: row.kind,
        firstErrorStep: row.first_error_step,
        rewardGood: row.reward_good,
        rewardBad: row.reward_bad,
        turns: row.turns,
        chars: row.chars,
        r2Key: taskRecordsKey(job.runId, job.task, kind),
        line,
      };
    }),
  );
  const statements = [
    db.delete(trajectories).where(and(eq(trajectories.runId, job.runId), eq(trajectories.task, job.task))),
  ];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    statements.push(db.insert(trajectories).values(rows.slice(i, i + ROWS_PER_INSERT)) as never);
  }
  await db.batch(statements as [(typeof statements)[0], ...typeof statements]);

  return {
    kind: 'splice',
    revision: result.revision.length,
    good: result.good.length,
    pairs: result.pairs,
    referenceJudgeCalls: result.referenceJudgeCalls,
    skipped: result.skipped,
  };
}
