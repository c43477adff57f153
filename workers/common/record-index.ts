import { getTableColumns } from 'drizzle-orm';
import { recordIndex } from '../../shared/db/schema';
import { indexRowOf, type NativeRecord } from '../../shared/revision';
import type { TrajectoryRow } from '../../shared/contracts/run-view';

/**
 * The D1 index of a run's records (tables `record_index` and `record_chunks`, migrations/0005):
 * every statement that writes or reads it. A record's row is keyed by (run, record id) and says
 * where the record is (task, kind, line of `taskRecordsKey(run, task, kind)`); a task's rows are
 * found through its `record_chunks` rows (the ids of each insert chunk), and deleting those rows
 * deletes the task's index rows with them (trigger `record_chunks_cascade`). One record costs one
 * D1 row written, one task one row per chunk (a typical task has one chunk).
 */

/** One row of `record_index`, keyed by the schema's property names. */
export type RecordIndexInsert = typeof recordIndex.$inferInsert;

/**
 * The row columns, read from the drizzle schema so the SQL cannot drift from it: `key` is the
 * property name (the JSON key of a row), `name` the SQL column.
 */
const COLUMNS = Object.entries(getTableColumns(recordIndex)).map(([key, column]) => ({
  key,
  name: column.name,
}));

/**
 * Inserts the rows of one JSON array (?1) in one statement: json_each walks the array in order and
 * json_extract reads each field. JSON null and a missing key both give SQL NULL; JSON integers
 * give INTEGER and fractions REAL, and the columns' affinity then stores them as the schema says
 * (a reward of 1 lands as REAL 1.0 in a `real` column, as a bound 1 would).
 */
const INSERT_ROWS_SQL =
  `INSERT INTO "record_index" (${COLUMNS.map((c) => `"${c.name}"`).join(', ')}) ` +
  `SELECT ${COLUMNS.map((c) => `json_extract(value, '$.${c.key}')`).join(', ')} FROM json_each(?1)`;
const INSERT_CHUNK_SQL =
  'INSERT INTO "record_chunks" ("run_id", "task", "chunk", "ids") VALUES (?1, ?2, ?3, ?4)';
/** Deletes a task's chunk rows; the trigger deletes the index rows they name. */
const DELETE_TASK_SQL = 'DELETE FROM "record_chunks" WHERE "run_id" = ?1 AND "task" = ?2';

/**
 * Most UTF-16 code units of JSON bound to one insert. D1 caps a string or BLOB (a bound value
 * included) at 1,000,000 bytes ("Maximum string, BLOB or table row size",
 * https://developers.cloudflare.com/d1/platform/limits/; some revisions of that page say 2 MB, we
 * take the lower). A code unit is at most 3 UTF-8 bytes, so 300,000 units stay under 900,000 bytes
 * whatever the text; an index row is ~200 ASCII characters, so ~1,500 rows go in one statement and
 * a typical task needs one. The chunk's id list is a fraction of that. The SQL text is ~0.5 KB
 * (the statement limit is 100 KB).
 */
export const MAX_INDEX_CHUNK_CHARS = 300_000;

/** A JSON array of rows (at most `maxChars` long unless a single row is larger) and their ids. */
export interface IndexChunk {
  rows: string;
  ids: string;
}

/** Index rows gathered into JSON chunks row by row, as a splice streams its records. */
export class IndexChunks {
  private readonly chunks: IndexChunk[] = [];
  private rows: string[] = [];
  private ids: string[] = [];
  private size = 2;

  constructor(private readonly maxChars = MAX_INDEX_CHUNK_CHARS) {}

  add(row: RecordIndexInsert): void {
    const json = JSON.stringify(row);
    if (this.rows.length > 0 && this.size + 1 + json.length > this.maxChars) this.flush();
    this.rows.push(json);
    this.ids.push(row.id);
    this.size += 1 + json.length;
  }

  done(): IndexChunk[] {
    this.flush();
    return this.chunks;
  }

  private flush(): void {
    if (this.rows.length > 0)
      this.chunks.push({ rows: `[${this.rows.join(',')}]`, ids: JSON.stringify(this.ids) });
    this.rows = [];
    this.ids = [];
    this.size = 2;
  }
}

/** The index row of the record on line `line` of its task's `kind` file. */
export function indexRowFor(record: NativeRecord, line: number): RecordIndexInsert {
  const row = indexRowOf(record);
  return {
    runId: row.run_id,
    id: row.id,
    task: row.task,
    kind: row.kind,
    line,
    firstErrorStep: row.first_error_step,
    rewardGood: row.reward_good,
    rewardBad: row.reward_bad,
    turns: row.turns,
    chars: row.chars,
  };
}

/** The statement that removes one task's index rows (and its chunk rows). */
export function taskIndexDelete(db: D1Database, runId: string, task: number): D1PreparedStatement {
  return db.prepare(DELETE_TASK_SQL).bind(runId, task);
}

/**
 * The statements that replace one task's index rows: the delete, then per chunk its rows and its
 * id list. Run them in one `DB.batch` (a transaction), so a redelivered job replaces and never
 * duplicates. Rows must all belong to (runId, task).
 */
export function taskIndexStatements(
  db: D1Database,
  runId: string,
  task: number,
  chunks: readonly IndexChunk[],
): D1PreparedStatement[] {
  const rows = db.prepare(INSERT_ROWS_SQL);
  const ids = db.prepare(INSERT_CHUNK_SQL);
  return [
    taskIndexDelete(db, runId, task),
    ...chunks.flatMap((chunk, i) => [rows.bind(chunk.rows), ids.bind(runId, task, i, chunk.ids)]),
  ];
}

/** `taskIndexStatements` from rows already gathered (tools and tests). */
export function taskIndexStatementsOf(
  db: D1Database,
  runId: string,
  task: number,
  rows: readonly RecordIndexInsert[],
  maxChunkChars = MAX_INDEX_CHUNK_CHARS,
): D1PreparedStatement[] {
  const chunks = new IndexChunks(maxChunkChars);
  for (const row of rows) chunks.add(row);
  return taskIndexStatements(db, runId, task, chunks.done());
}

/** Removes one task's index rows. */
export async function removeTaskIndex(db: D1Database, runId: string, task: number): Promise<void> {
  await taskIndexDelete(db, runId, task).run();
}

// Readers ------------------------------------------------------------------------------------

const ROW_COLUMNS =
  'r.id AS id, r.task AS task, r.kind AS kind, r.first_error_step AS firstErrorStep, ' +
  'r.reward_good AS rewardGood, r.reward_bad AS rewardBad, r.turns AS turns, r.chars AS chars';

export interface IndexPageQuery {
  kind?: 'revision' | 'good' | undefined;
  task?: number | undefined;
  /** Rows with an id after this one (the `next` of the previous page). */
  after?: string | undefined;
  limit: number;
}

/**
 * A page of a run's index rows in id order. With a task, the task's ids come from its chunk rows
 * and each is looked up by key (CROSS JOIN keeps that loop order: the run's other rows are never
 * scanned); without, the run's key range is walked in order.
 */
export async function indexPage(db: D1Database, runId: string, q: IndexPageQuery): Promise<TrajectoryRow[]> {
  const where: string[] = [];
  const binds: (string | number)[] = [runId];
  const bind = (value: string | number) => {
    binds.push(value);
    return `?${binds.length}`;
  };
  if (q.kind) where.push(`r.kind = ${bind(q.kind)}`);
  if (q.after !== undefined) where.push(`r.id > ${bind(q.after)}`);
  const from =
    q.task === undefined
      ? 'record_index AS r WHERE r.run_id = ?1'
      : `record_chunks AS c CROSS JOIN json_each(c.ids) AS j CROSS JOIN record_index AS r
         WHERE c.run_id = ?1 AND c.task = ${bind(q.task)} AND r.run_id = ?1 AND r.id = j.value AND r.task = c.task`;
  const sql = `SELECT ${ROW_COLUMNS} FROM ${from}${where.map((w) => ` AND ${w}`).join('')} ORDER BY r.id LIMIT ${bind(q.limit)}`;
  return (
    await db
      .prepare(sql)
      .bind(...binds)
      .all<TrajectoryRow>()
  ).results;
}

/** Where one record is: its task, kind and line. */
export async function findRecord(
  db: D1Database,
  runId: string,
  id: string,
): Promise<{ task: number; kind: 'revision' | 'good'; line: number } | null> {
  return db
    .prepare('SELECT task, kind, line FROM record_index WHERE run_id = ?1 AND id = ?2')
    .bind(runId, id)
    .first<{ task: number; kind: 'revision' | 'good'; line: number }>();
}
