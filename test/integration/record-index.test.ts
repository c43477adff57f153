import { applyD1Migrations } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import { runs } from '../../shared/db/schema';
import type { TrajectoryRow } from '../../shared/contracts/run-view';
import type { NativeRecord } from '../../shared/revision';
import type { CoreBindings } from '../../workers/common/env';
import {
  findRecord,
  indexPage,
  type RecordIndexInsert,
  removeTaskIndex,
  taskIndexStatementsOf,
} from '../../workers/common/record-index';
import { readRecordAt } from '../../workers/common/records';
import { taskRecordsKey } from '../../workers/common/storage-keys';
import { spliceTree } from '../../workers/splicer/src/splice-tree';
import { api } from './helpers';
import { recordsOf, spliceJob, treeInput } from './splice-job';

type Migrations = Parameters<typeof applyD1Migrations>[1];
const env = workerEnv as unknown as CoreBindings & { LEGACY_DB: D1Database; TEST_MIGRATIONS: Migrations };

/** Splices a random tree for `task` (records to R2, index rows to D1); returns its records by kind. */
async function splice(runId: string, task: number, seed: number) {
  await spliceTree(env, spliceJob(runId, task), undefined, treeInput(task, seed));
  return {
    records: {
      revision: await recordsOf(runId, task, 'revision'),
      good: await recordsOf(runId, task, 'good'),
    },
  };
}

/** The listing row a record should have. */
function listed(record: NativeRecord, turns: number): TrajectoryRow {
  return expect.objectContaining({ id: record.id, task: record.task, kind: record.kind, turns }) as never;
}

/** Every page of one query, following `next`. */
async function allPages(
  db: D1Database,
  runId: string,
  q: { kind?: 'revision' | 'good'; task?: number },
  limit = 7,
) {
  const out: TrajectoryRow[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const rows = await indexPage(db, runId, { ...q, after, limit });
    out.push(...rows);
    if (rows.length < limit) return out;
    after = rows.at(-1)!.id;
  }
  throw new Error('too many pages');
}

function syntheticRows(runId: string, task: number, count: number): RecordIndexInsert[] {
  return Array.from({ length: count }, (_, i) => ({
    runId,
    id: `r${task}_${String(i).padStart(6, '0')}`,
    task,
    kind: i % 4 === 0 ? 'good' : 'revision',
    line: i,
    firstErrorStep: i % 4 === 0 ? null : 1 + (i % 5),
    rewardGood: 1,
    rewardBad: i % 4 === 0 ? null : 0,
    turns: 6,
    chars: 900 + i,
  }));
}

describe('the record index (one D1 row per record)', () => {
  it('writes one D1 row per record plus one per chunk, and a replacement deletes exactly the old rows', async () => {
    const runId = 'run_record_index_rows';
    const rows = syntheticRows(runId, 3, 500);
    const statements = taskIndexStatementsOf(env.DB, runId, 3, rows);
    expect(statements.length).toBe(3); // delete, rows, ids
    const first = await env.DB.batch(statements);
    // D1 counts every b-tree entry written: the legacy table wrote 3 per record (row, id index,
    // (run, task, kind) index); the WITHOUT ROWID index writes 1, and the task's chunk row 1.
    expect(first.reduce((n, r) => n + r.meta.rows_written, 0)).toBe(rows.length + 1);
    const again = await env.DB.batch(taskIndexStatementsOf(env.DB, runId, 3, rows));
    expect(again[0]!.meta.rows_written).toBe(rows.length + 1); // the chunk row and, by trigger, its rows
    expect(again.reduce((n, r) => n + r.meta.rows_written, 0)).toBe(2 * (rows.length + 1));
    const count = await env.DB.prepare('SELECT COUNT(*) AS n FROM record_index WHERE run_id = ?1')
      .bind(runId)
      .first<{ n: number }>();
    expect(count?.n).toBe(rows.length);
  });

  it('lists, pages, filters and finds what a splice wrote, and removes one task without touching another', async () => {
    const runId = 'run_record_index_views';
    const a = await splice(runId, 5, 21);
    const b = await splice(runId, 6, 22);
    expect(a.records.revision.length).toBeGreaterThan(7);
    const all = [...a.records.revision, ...a.records.good, ...b.records.revision, ...b.records.good];
    const byId = [...all].sort((x, y) => (x.id < y.id ? -1 : 1));
    const turns = (r: NativeRecord) => r.revise_log.length;

    expect(await allPages(env.DB, runId, {})).toEqual(byId.map((r) => listed(r, turns(r))));
    expect(await allPages(env.DB, runId, { task: 5 })).toEqual(
      byId.filter((r) => r.task === 5).map((r) => listed(r, turns(r))),
    );
    expect(await allPages(env.DB, runId, { task: 6, kind: 'good' })).toEqual(
      byId.filter((r) => r.task === 6 && r.kind === 'good').map((r) => listed(r, turns(r))),
    );
    expect(await allPages(env.DB, runId, { kind: 'revision' })).toHaveLength(
      a.records.revision.length + b.records.revision.length,
    );
    for (const kind of ['revision', 'good'] as const) {
      const line = a.records[kind].length - 1;
      const record = a.records[kind][line]!;
      expect(await findRecord(env.DB, runId, record.id)).toEqual({ task: 5, kind, line });
      expect(await readRecordAt(env, taskRecordsKey(runId, 5, kind), line)).toEqual(record);
    }
    expect(await findRecord(env.DB, runId, 'no-such-id')).toBeNull();
    expect(await findRecord(env.DB, 'run_other', a.records.good[0]!.id)).toBeNull();

    // The API reads the same rows (GET /trajectories with ?task, GET /trajectories/:id).
    const now = Date.now();
    await drizzle(env.DB)
      .insert(runs)
      .values({ id: runId, status: 'completed', spec: {}, taskCount: 2, createdAt: now, updatedAt: now });
    const page = (await (await api(`/v1/runs/${runId}/trajectories?task=6&limit=500`)).json()) as {
      trajectories: TrajectoryRow[];
      next: string | null;
    };
    expect(page.trajectories.map((r) => r.id)).toEqual(byId.filter((r) => r.task === 6).map((r) => r.id));
    expect(page.next).toBeNull();
    const one = await api(`/v1/runs/${runId}/trajectories/${b.records.revision[2]!.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(b.records.revision[2]);

    await removeTaskIndex(env.DB, runId, 5);
    expect(await allPages(env.DB, runId, {})).toEqual(
      byId.filter((r) => r.task === 6).map((r) => listed(r, turns(r))),
    );
    expect(await allPages(env.DB, runId, { task: 5 })).toEqual([]);
  });

  it('migration 0005 carries legacy `trajectories` rows over: same listing, lookups, view and chunks', async () => {
    const runId = 'run_record_index_legacy';
    const { records } = await splice(runId, 2, 31);
    const expected = await allPages(env.DB, runId, {});
    const migrations = env.TEST_MIGRATIONS;
    const legacy = env.LEGACY_DB;
    await applyD1Migrations(
      legacy,
      migrations.filter((m) => m.name < '0005'),
    );
    // The rows as the splicer wrote them before 0005, plus a task of 12,001 rows (over one 10,000-id chunk).
    const insert = legacy.prepare(
      `INSERT INTO trajectories (id, run_id, task, kind, first_error_step, reward_good, reward_bad, turns, chars, r2_key, line)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7,
         value ->> 8, value ->> 9, value ->> 10 FROM json_each(?1)`,
    );
    const legacyRows = (['revision', 'good'] as const).flatMap((kind) =>
      records[kind].map((r, line) => {
        const row = expected.find((e) => e.id === r.id)!;
        const key = taskRecordsKey(runId, 2, kind);
        return [
          r.id,
          runId,
          2,
          kind,
          row.firstErrorStep,
          row.rewardGood,
          row.rewardBad,
          row.turns,
          row.chars,
          key,
          line,
        ];
      }),
    );
    const big = syntheticRows(runId, 9, 12_001).map((r) => {
      const key = taskRecordsKey(runId, 9, r.kind);
      return [
        r.id,
        runId,
        9,
        r.kind,
        r.firstErrorStep,
        r.rewardGood,
        r.rewardBad,
        r.turns,
        r.chars,
        key,
        r.line,
      ];
    });
    const all = [...legacyRows, ...big];
    const batches = [];
    for (let i = 0; i < all.length; i += 2000)
      batches.push(insert.bind(JSON.stringify(all.slice(i, i + 2000))));
    await legacy.batch(batches);
    const typed = await legacy
      .prepare('SELECT typeof(reward_good) AS g, typeof(task) AS t FROM trajectories LIMIT 1')
      .first();
    expect(typed).toEqual({ g: 'real', t: 'integer' });

    await applyD1Migrations(legacy, migrations);
    const migrated = await allPages(legacy, runId, { task: 2 });
    expect(migrated).toEqual(expected);
    expect((await allPages(legacy, runId, { task: 9 }, 500)).length).toBe(12_001);
    const record = records.good[1]!;
    const at = await findRecord(legacy, runId, record.id);
    expect(at).toEqual({ task: 2, kind: 'good', line: 1 });
    expect(await readRecordAt(env, taskRecordsKey(runId, at!.task, at!.kind), at!.line)).toEqual(record);
    // The view gives the old columns, r2_key included.
    const view = await legacy
      .prepare('SELECT r2_key, line FROM trajectories WHERE run_id = ?1 AND id = ?2')
      .bind(runId, record.id)
      .first();
    expect(view).toEqual({ r2_key: taskRecordsKey(runId, 2, 'good'), line: 1 });
    // Every id sits in exactly one chunk of its task; replacing a migrated task leaves no stale row.
    const chunked = await legacy
      .prepare(
        'SELECT c.task AS task, COUNT(*) AS n, COUNT(DISTINCT j.value) AS d FROM record_chunks c, json_each(c.ids) j WHERE c.run_id = ?1 GROUP BY c.task ORDER BY c.task',
      )
      .bind(runId)
      .all();
    expect(chunked.results).toEqual([
      { task: 2, n: legacyRows.length, d: legacyRows.length },
      { task: 9, n: 12_001, d: 12_001 },
    ]);
    await legacy.batch(taskIndexStatementsOf(legacy, runId, 9, syntheticRows(runId, 9, 3)));
    expect((await allPages(legacy, runId, {}, 500)).length).toBe(legacyRows.length + 3);
  });
});
