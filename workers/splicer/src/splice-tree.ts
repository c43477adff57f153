import { getTableColumns, getTableName } from 'drizzle-orm';
import { trajectories } from '../../../shared/db/schema';
import { toInternedJsonl } from '../../../shared/formats/interned-jsonl';
import type { JobResult, SpliceJob } from '../../../shared/contracts/jobs';
import { indexRowOf, type NativeRecord, spliceTask } from '../../../shared/revision';
import { rootPrefixForRun } from '../../../shared/run-conversation';
import type { CoreBindings } from '../../common/env';
import { ensureCurrent, type JobContext } from '../../common/job-context';
import { provenanceOf } from '../../common/provenance';
import { taskRecordsKey, taskTreeKey } from '../../common/storage-keys';

/** One row of the D1 trajectory index, keyed by the schema's property names. */
export type TrajectoryIndexInsert = typeof trajectories.$inferInsert;

/**
 * The index columns, read from the drizzle schema so the SQL cannot drift from it: `key` is the
 * property name (the JSON key of a row, see TrajectoryIndexInsert), `name` the SQL column.
 */
const INDEX_COLUMNS = Object.entries(getTableColumns(trajectories)).map(([key, column]) => ({
  key,
  name: column.name,
}));
const INDEX_TABLE = getTableName(trajectories);

/**
 * Inserts the rows of one JSON array (?1) in one statement: json_each walks the array in order and
 * json_extract reads each field. JSON null and a missing key both give SQL NULL; JSON integers
 * give INTEGER and fractions REAL, and the columns' affinity then stores them as the schema says
 * (a reward of 1 lands as REAL 1.0 in a `real` column, as drizzle's bound 1 did).
 */
const INSERT_INDEX_ROWS_SQL =
  `INSERT INTO "${INDEX_TABLE}" (${INDEX_COLUMNS.map((c) => `"${c.name}"`).join(', ')}) ` +
  `SELECT ${INDEX_COLUMNS.map((c) => `json_extract(value, '$.${c.key}')`).join(', ')} FROM json_each(?1)`;
const DELETE_TASK_ROWS_SQL = `DELETE FROM "${INDEX_TABLE}" WHERE "${trajectories.runId.name}" = ?1 AND "${trajectories.task.name}" = ?2`;

/**
 * Most UTF-16 code units of JSON bound to one insert. D1 caps a string or BLOB (a bound value
 * included) at 1,000,000 bytes ("Maximum string, BLOB or table row size",
 * https://developers.cloudflare.com/d1/platform/limits/; some revisions of that page say 2 MB, we
 * take the lower). A code unit is at most 3 UTF-8 bytes, so 300,000 units stay under 900,000 bytes
 * whatever the text; an index row is ~250 ASCII characters, so ~1,200 rows go in one statement and
 * a typical task needs one. The SQL text itself is ~0.5 KB (the statement limit is 100 KB).
 */
export const MAX_INDEX_CHUNK_CHARS = 300_000;

/** JSON arrays of the rows, each at most `maxChars` long (a single larger row gets its own). */
function jsonChunks(rows: readonly TrajectoryIndexInsert[], maxChars: number): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (parts.length > 0 && size + 1 + json.length > maxChars) {
      chunks.push(`[${parts.join(',')}]`);
      parts = [];
      size = 2;
    }
    parts.push(json);
    size += 1 + json.length;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(',')}]`);
  return chunks;
}

/**
 * The statements that replace one task's index rows: a delete, then one insert per JSON chunk.
 * Run them in one `DB.batch` (a transaction), so a redelivered job replaces and never duplicates.
 */
export function trajectoryIndexStatements(
  db: D1Database,
  runId: string,
  task: number,
  rows: readonly TrajectoryIndexInsert[],
  maxChunkChars = MAX_INDEX_CHUNK_CHARS,
): D1PreparedStatement[] {
  const insert = db.prepare(INSERT_INDEX_ROWS_SQL);
  return [
    db.prepare(DELETE_TASK_ROWS_SQL).bind(runId, task),
    ...jsonChunks(rows, maxChunkChars).map((json) => insert.bind(json)),
  ];
}

/** The D1 index row of the record on line `line` of the R2 object `r2Key`. */
export function indexInsertOf(record: NativeRecord, r2Key: string, line: number): TrajectoryIndexInsert {
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
    r2Key,
    line,
  };
}

function envLabel(job: SpliceJob): string {
  return job.spec.env === 'crafting' ? `crafting:${job.spec.world}` : (job.spec.flavor ?? 'agentgym');
}

/**
 * Pairs, cuts and splices one finished tree, then writes the records (R2, one JSONL per kind,
 * replaced whole), the tree file, and the index rows (D1, replaced for this task in one batch).
 * Repeating it gives the same files and rows, so a redelivered job duplicates nothing.
 */
export async function spliceTree(
  env: CoreBindings,
  job: SpliceJob,
  context?: JobContext,
): Promise<JobResult> {
  const { spec } = job;
  const provenance = await provenanceOf(env, spec, job.models ?? {});
  const result = spliceTask(
    job.tree,
    {
      runId: job.runId,
      // Replayed `startFrom` steps belong to every record's conversation (not trained).
      rootPrefix: [
        ...rootPrefixForRun(spec, job.firstObservation),
        ...(job.prefix ?? []).flatMap((step) => [
          { role: 'assistant' as const, content: step.response },
          { role: 'user' as const, content: step.observation },
        ]),
      ],
      env: envLabel(job),
      model: job.models?.policy ?? spec.policy,
      provenance,
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
    job.pairJudgements,
  );
  const files = [
    { kind: 'revision' as const, records: result.revision },
    { kind: 'good' as const, records: result.good },
  ];
  // A cancelled task (or a superseded attempt) writes nothing.
  await ensureCurrent(context, 'records');
  await Promise.all([
    ...files.map(({ kind, records }) =>
      env.BUCKET.put(taskRecordsKey(job.runId, job.task, kind), toInternedJsonl(records), {
        httpMetadata: { contentType: 'application/x-ndjson' },
        customMetadata: { records: String(records.length) },
      }),
    ),
    env.BUCKET.put(taskTreeKey(job.runId, job.task), JSON.stringify(job.tree), {
      httpMetadata: { contentType: 'application/json' },
    }),
  ]);

  const rows = files.flatMap(({ kind, records }) =>
    records.map((record, line) => indexInsertOf(record, taskRecordsKey(job.runId, job.task, kind), line)),
  );
  await env.DB.batch(trajectoryIndexStatements(env.DB, job.runId, job.task, rows));

  return {
    kind: 'splice',
    revision: result.revision.length,
    good: result.good.length,
    pairs: result.pairs,
    referenceJudgeCalls: result.referenceJudgeCalls,
    skipped: result.skipped,
  };
}

/** Takes back what a splice wrote for one task: its record files, tree file and index rows. */
export async function removeTaskRecords(env: CoreBindings, runId: string, task: number): Promise<void> {
  await env.BUCKET.delete([
    taskRecordsKey(runId, task, 'revision'),
    taskRecordsKey(runId, task, 'good'),
    taskTreeKey(runId, task),
  ]);
  await env.DB.prepare(DELETE_TASK_ROWS_SQL).bind(runId, task).run();
}
