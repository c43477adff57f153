import { getTableColumns, getTableName } from 'drizzle-orm';
import { trajectories } from '../../../shared/db/schema';
import { createInternedJsonlWriter } from '../../../shared/formats/interned-jsonl';
import type { JobResult, SpliceJob, SplicePage } from '../../../shared/contracts/jobs';
import type { TreeFile } from '../../../shared/contracts/tree-file';
import { type SearchNode, treeFileOfNodes } from '../../../shared/mcts';
import { indexRowOf, type NativeRecord, spliceTaskRecords } from '../../../shared/revision';
import { rootPrefixForRun } from '../../../shared/run-conversation';
import { type CoreBindings, taskTreeStub } from '../../common/env';
import { putJsonl } from '../../common/r2-jsonl';
import { type JobContext, JobSuperseded } from '../../common/job-context';
import { provenanceOf } from '../../common/provenance';
import { taskRecordsKey, taskTreeKey } from '../../common/storage-keys';
import { DELETE_TASK_ROWS_SQL } from '../../common/task-records';

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

/**
 * Most UTF-16 code units of JSON bound to one insert. D1 caps a string or BLOB (a bound value
 * included) at 1,000,000 bytes ("Maximum string, BLOB or table row size",
 * https://developers.cloudflare.com/d1/platform/limits/; some revisions of that page say 2 MB, we
 * take the lower). A code unit is at most 3 UTF-8 bytes, so 300,000 units stay under 900,000 bytes
 * whatever the text; an index row is ~250 ASCII characters, so ~1,200 rows go in one statement and
 * a typical task needs one. The SQL text itself is ~0.5 KB (the statement limit is 100 KB).
 */
export const MAX_INDEX_CHUNK_CHARS = 300_000;

/** JSON arrays of rows, each at most `maxChars` long (a single larger row gets its own), built row by row. */
class JsonChunks {
  readonly chunks: string[] = [];
  private parts: string[] = [];
  private size = 2;

  constructor(private readonly maxChars: number) {}

  add(row: TrajectoryIndexInsert): void {
    const json = JSON.stringify(row);
    if (this.parts.length > 0 && this.size + 1 + json.length > this.maxChars) this.flush();
    this.parts.push(json);
    this.size += 1 + json.length;
  }

  done(): string[] {
    this.flush();
    return this.chunks;
  }

  private flush(): void {
    if (this.parts.length > 0) this.chunks.push(`[${this.parts.join(',')}]`);
    this.parts = [];
    this.size = 2;
  }
}

function jsonChunks(rows: readonly TrajectoryIndexInsert[], maxChars: number): string[] {
  const chunks = new JsonChunks(maxChars);
  for (const row of rows) chunks.add(row);
  return chunks.done();
}

/** The statements that insert JSON chunks of index rows, after the delete of the task's rows. */
function indexStatements(
  db: D1Database,
  runId: string,
  task: number,
  chunks: string[],
): D1PreparedStatement[] {
  const insert = db.prepare(INSERT_INDEX_ROWS_SQL);
  return [db.prepare(DELETE_TASK_ROWS_SQL).bind(runId, task), ...chunks.map((json) => insert.bind(json))];
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
  return indexStatements(db, runId, task, jsonChunks(rows, maxChunkChars));
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

/** The finished tree and its judge feedback, as a splice reads them. */
export interface SpliceInput {
  tree: TreeFile;
  feedback: Record<string, string>;
}

/** Bounds the page loop (a page holds at least one node; trees are capped far below this). */
const MAX_PAGES = 1_000_000;

/** How often a writing splice renews its permit (a third of the lease, see tree-writes.ts). */
const PERMIT_RENEW_MS = 3_000;

/**
 * The TaskTree's write permit for one splice attempt: `step` before each write (JobSuperseded
 * when refused: the task was cancelled or the attempt superseded), renewed in the background
 * while a step runs, so a cancel waits for the step and not for a writer that died.
 */
function writePermit(env: CoreBindings, job: SpliceJob, context?: JobContext) {
  // Outside a queue consumer (tools, tests of the splice alone) there is no permit to take.
  if (!context) return { step: async (_what: string) => {}, done: () => {} };
  const stub = taskTreeStub(env, job.runId, job.task);
  const renew = setInterval(
    () => void stub.renewWrite(job.jobId, job.attempt).catch(() => false),
    PERMIT_RENEW_MS,
  );
  return {
    step: async (what: string) => {
      if (!(await stub.beginWrite(job.jobId, job.attempt))) throw new JobSuperseded(what);
    },
    done: () => clearInterval(renew),
  };
}

/** Reads the finished tree from its TaskTree a page at a time (no single RPC carries all of it). */
export async function readTreeInPages(env: CoreBindings, job: SpliceJob): Promise<SpliceInput> {
  const stub = taskTreeStub(env, job.runId, job.task);
  const nodes: SearchNode[] = [];
  const feedback: Record<string, string> = {};
  let from: number | null = 0;
  for (let page = 0; from !== null && page < MAX_PAGES; page++) {
    const got: SplicePage | null = await stub.splicePage(job.jobId, job.attempt, from);
    if (!got) throw new JobSuperseded('reading the tree');
    nodes.push(...got.nodes);
    Object.assign(feedback, got.feedback);
    from = got.next;
  }
  return { tree: treeFileOfNodes(nodes, job.task), feedback };
}

/**
 * Pairs, cuts and splices one finished tree, then writes the records (R2, one JSONL per kind,
 * replaced whole), the tree file, and the index rows (D1, replaced for this task in one batch).
 * Records are built one at a time and streamed to R2 in parts, so memory holds the tree and one
 * part, not the records. Repeating it gives the same files and rows: a redelivered job
 * duplicates nothing.
 */
export async function spliceTree(
  env: CoreBindings,
  job: SpliceJob,
  context?: JobContext,
  readInput: () => Promise<SpliceInput> = () => readTreeInPages(env, job),
): Promise<JobResult> {
  const { spec } = job;
  const provenance = await provenanceOf(env, spec, job.models ?? {});
  const { tree, feedback } = await readInput();
  const records = spliceTaskRecords(
    tree,
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
    (nodeId) => feedback[nodeId],
    job.pairJudgements,
  );
  // A cancelled task (or a superseded attempt) writes nothing: each write step takes the
  // TaskTree's write permit first, which a cancel refuses and waits for (tree-writes.ts).
  const permit = writePermit(env, job, context);
  await permit.step('records');
  const index = new JsonChunks(MAX_INDEX_CHUNK_CHARS);
  let next = records.next();
  // The records of one kind as interned JSONL lines, each indexed as it goes by.
  async function* linesOf(kind: 'revision' | 'good', key: string): AsyncGenerator<string> {
    const writer = createInternedJsonlWriter();
    for (let line = 0; !next.done && next.value.kind === kind; line++) {
      index.add(indexInsertOf(next.value.record, key, line));
      yield writer.line(next.value.record);
      next = records.next();
    }
  }
  try {
    for (const kind of ['revision', 'good'] as const) {
      const key = taskRecordsKey(job.runId, job.task, kind);
      await putJsonl(env.BUCKET, key, linesOf(kind, key));
    }
    if (!next.done) throw new Error('splice: records came out of order');
    await env.BUCKET.put(taskTreeKey(job.runId, job.task), JSON.stringify(tree), {
      httpMetadata: { contentType: 'application/json' },
    });
    await permit.step('the index rows');
    await env.DB.batch(indexStatements(env.DB, job.runId, job.task, index.done()));
  } finally {
    permit.done();
  }
  const counts = next.value;

  return {
    kind: 'splice',
    revision: counts.revision,
    good: counts.good,
    pairs: counts.pairs,
    referenceJudgeCalls: counts.referenceJudgeCalls,
    skipped: counts.skipped,
  };
}
