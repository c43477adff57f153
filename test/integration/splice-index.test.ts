import { env as workerEnv } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import { recordIndex } from '../../shared/db/schema';
import type { CoreBindings } from '../../workers/common/env';
import {
  indexRowFor,
  MAX_INDEX_CHUNK_CHARS,
  type RecordIndexInsert,
  taskIndexStatementsOf,
} from '../../workers/common/record-index';
import { spliceTree } from '../../workers/splicer/src/splice-tree';
import { recordsOf, spliceJob, treeInput } from './splice-job';

const env = workerEnv as unknown as CoreBindings;

/** Every column with its SQLite storage class, in a stable order. */
const SELECT_TYPED = `SELECT id, typeof(id) AS t_id, run_id, typeof(run_id) AS t_run_id, task, typeof(task) AS t_task,
  kind, typeof(kind) AS t_kind, first_error_step, typeof(first_error_step) AS t_first_error_step,
  reward_good, typeof(reward_good) AS t_reward_good, reward_bad, typeof(reward_bad) AS t_reward_bad,
  turns, typeof(turns) AS t_turns, chars, typeof(chars) AS t_chars, line, typeof(line) AS t_line
  FROM record_index WHERE run_id = ?1 ORDER BY id`;

type TypedRow = Record<string, string | number | null>;

async function typedRows(runId: string): Promise<TypedRow[]> {
  return (await env.DB.prepare(SELECT_TYPED).bind(runId).all<TypedRow>()).results;
}

/** The row (values and SQLite types) that an index row should read back as. */
function expectedTyped(row: RecordIndexInsert): TypedRow {
  const typed = (value: string | number | null | undefined, integer: boolean) => ({
    value: value ?? null,
    type:
      value === null || value === undefined
        ? 'null'
        : typeof value === 'string'
          ? 'text'
          : integer
            ? 'integer'
            : 'real',
  });
  const columns: [string, { value: string | number | null; type: string }][] = [
    ['id', typed(row.id, false)],
    ['run_id', typed(row.runId, false)],
    ['task', typed(row.task, true)],
    ['kind', typed(row.kind, false)],
    ['first_error_step', typed(row.firstErrorStep, true)],
    ['reward_good', typed(row.rewardGood, false)],
    ['reward_bad', typed(row.rewardBad, false)],
    ['turns', typed(row.turns, true)],
    ['chars', typed(row.chars, true)],
    ['line', typed(row.line, true)],
  ];
  return Object.fromEntries(
    columns.flatMap(([name, { value, type }]) => [
      [name, value],
      [`t_${name}`, type],
    ]),
  );
}

const byId = (a: TypedRow, b: TypedRow) => ((a.id as string) < (b.id as string) ? -1 : 1);

/** Synthetic index rows with awkward values: nulls, integral and inexact reals, non-ASCII text. */
function syntheticRows(runId: string, task: number, count: number): RecordIndexInsert[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${runId}_${task}_${String(i).padStart(6, '0')}_${'x'.repeat(i % 40)}`,
    runId,
    task,
    kind: i % 3 === 0 ? 'good' : 'revision',
    firstErrorStep: i % 3 === 0 ? null : i % 17,
    rewardGood: [1, 0, 0.1 + 0.2, 1 / 3, 2 / 3, 0.7, 1e-7, 0.9999999999999999][i % 8] as number,
    rewardBad: i % 3 === 0 ? null : [0, 0.2, 1 / 7, 5e-324][i % 4],
    turns: 4 + (i % 50),
    chars: 1000 + i * 37,
    line: i,
  }));
}

describe('the record index written by a splice (json_each inserts)', () => {
  it('writes one row per record, field by field and type by type, and a re-splice replaces them', async () => {
    const runId = 'run_splice_index_a';
    const job = spliceJob(runId, 4);
    const first = await spliceTree(env, job, undefined, treeInput(4, 11));
    if (first.kind !== 'splice') throw new Error('expected a splice result');
    expect(first.revision).toBeGreaterThan(0);
    expect(first.good).toBeGreaterThan(0);

    const expected: TypedRow[] = [];
    for (const kind of ['revision', 'good'] as const) {
      const records = await recordsOf(runId, job.task, kind);
      expect(records.length).toBe(kind === 'revision' ? first.revision : first.good);
      records.forEach((record, line) => {
        expected.push(expectedTyped(indexRowFor(record, line)));
      });
    }
    expected.sort(byId);
    // Both kinds of record, with and without a first error and a bad reward.
    expect(expected.some((r) => r.first_error_step === null)).toBe(true);
    expect(expected.some((r) => r.first_error_step !== null)).toBe(true);
    expect(expected.some((r) => r.reward_bad === null)).toBe(true);

    const written = await typedRows(runId);
    expect(written).toEqual(expected);

    // A redelivered job: same rows, no duplicates.
    await spliceTree(env, job, undefined, treeInput(4, 11));
    expect(await typedRows(runId)).toEqual(expected);
  });

  it('stores the same values and SQLite types as the drizzle inserts it replaces', async () => {
    const runId = 'run_splice_index_b';
    const rows = syntheticRows(runId, 2, 200);
    const db = drizzle(env.DB);
    const viaDrizzle = [db.delete(recordIndex).where(eq(recordIndex.runId, runId))];
    for (let i = 0; i < rows.length; i += 8)
      viaDrizzle.push(db.insert(recordIndex).values(rows.slice(i, i + 8)) as never);
    await db.batch(viaDrizzle as [(typeof viaDrizzle)[0], ...typeof viaDrizzle]);
    const drizzleRows = await typedRows(runId);
    expect(drizzleRows.length).toBe(rows.length);

    await env.DB.prepare('DELETE FROM record_index WHERE run_id = ?1').bind(runId).run();
    await env.DB.batch(taskIndexStatementsOf(env.DB, runId, 2, rows));
    const jsonRows = await typedRows(runId);
    expect(jsonRows).toEqual(drizzleRows);
    expect(jsonRows).toEqual(rows.map(expectedTyped).sort(byId));
    // Integral rewards are REAL in a `real` column, as before.
    expect(jsonRows.find((r) => r.reward_good === 1)?.t_reward_good).toBe('real');
  });

  it('writes a task larger than one chunk completely, in one batch with the delete', async () => {
    const runId = 'run_splice_index_c';
    const task = 9;
    const rows = syntheticRows(runId, task, 3000);
    const statements = taskIndexStatementsOf(env.DB, runId, task, rows);
    const jsonChars = rows.reduce((sum, r) => sum + JSON.stringify(r).length + 1, 1);
    expect(jsonChars).toBeGreaterThan(2 * MAX_INDEX_CHUNK_CHARS);
    expect(statements.length).toBeGreaterThanOrEqual(1 + 2 * Math.ceil(jsonChars / MAX_INDEX_CHUNK_CHARS));
    // Stale rows of the task (another row set) are replaced, rows of other tasks kept.
    await env.DB.batch(
      taskIndexStatementsOf(
        env.DB,
        runId,
        task,
        syntheticRows(runId, task, 5).map((r) => ({ ...r, id: `stale_${r.id}` })),
      ),
    );
    const other = syntheticRows(runId, task + 1, 3).map((r) => ({ ...r, id: `other_${r.id}` }));
    await env.DB.batch(taskIndexStatementsOf(env.DB, runId, task + 1, other));

    await env.DB.batch(statements);
    const expected = [...rows, ...other].map(expectedTyped).sort(byId);
    expect(await typedRows(runId)).toEqual(expected);

    // Small chunks (many statements) write the same rows; so does a task with no rows (delete only).
    const small = taskIndexStatementsOf(env.DB, runId, task, rows, 2_000);
    expect(small.length).toBeGreaterThan(100);
    await env.DB.batch(small);
    expect(await typedRows(runId)).toEqual(expected);
    const empty = taskIndexStatementsOf(env.DB, runId, task, []);
    expect(empty.length).toBe(1);
    await env.DB.batch(empty);
    expect(await typedRows(runId)).toEqual(other.map(expectedTyped).sort(byId));
  });
});
