import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { type RunSpec, runSpecSchema } from '../../shared/contracts/run-spec';
import type { CoordinatorBindings } from '../../workers/common/env';
import { runLedgerStub, taskTreeStub } from '../../workers/common/env';
import { runStartFromKey } from '../../workers/common/storage-keys';
import { startRun } from '../../workers/gateway/src/services/runs';
import { api, eventually } from './helpers';

// A run's spec is stored once, keyed by its id: D1's runs row holds it without `startFrom`, R2
// holds `startFrom` (runStartFromKey), and the RunLedger keeps what it needs to start and finish
// the run on its own (the spec without `startFrom` under one key, written once; each task's
// history until its tree has it). Its status row, rewritten on every status change, is small.

const env = workerEnv as unknown as CoordinatorBindings;
type AnyStub = DurableObjectStub;

const FINAL = ['completed', 'partial', 'failed', 'cancelled'];

/** `steps` policy responses of `chars` characters each, ending in an action the world accepts. */
function history(task: number, steps: number, chars: number): string[] {
  return Array.from({ length: steps }, (_, i) => {
    const head = `Thought: task ${task}, replayed step ${i}. `;
    const tail = '\nAction: inventory';
    return head + 'x'.repeat(chars - head.length - tail.length) + tail;
  });
}

const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).byteLength;

/** SQLite triggers that log every write to the ledger's meta and start_from tables, with its size. */
const WRITE_LOG = [
  'CREATE TABLE IF NOT EXISTS test_writes (tbl TEXT NOT NULL, key TEXT NOT NULL, bytes INTEGER NOT NULL)',
  `CREATE TRIGGER IF NOT EXISTS test_meta_insert AFTER INSERT ON meta BEGIN
     INSERT INTO test_writes VALUES ('meta', NEW.key, length(CAST(NEW.value AS BLOB))); END`,
  `CREATE TRIGGER IF NOT EXISTS test_meta_update AFTER UPDATE ON meta BEGIN
     INSERT INTO test_writes VALUES ('meta', NEW.key, length(CAST(NEW.value AS BLOB))); END`,
  `CREATE TRIGGER IF NOT EXISTS test_start_from_insert AFTER INSERT ON start_from BEGIN
     INSERT INTO test_writes VALUES ('start_from', NEW.task, length(CAST(NEW.steps AS BLOB))); END`,
];

interface Write {
  tbl: string;
  key: string;
  bytes: number;
}

async function ledgerSql<T>(runId: string, read: (sql: SqlStorage) => T): Promise<T> {
  return runInDurableObject(runLedgerStub(env, runId) as unknown as AnyStub, (_i, state) =>
    read(state.storage.sql),
  );
}

const rows = <T extends Record<string, SqlStorageValue>>(sql: SqlStorage, query: string) =>
  sql.exec<T>(query).toArray();

async function registerSim() {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy', maxConcurrency: 8 },
  });
  expect(put.status).toBe(200);
}

async function waitForLedger(runId: string) {
  return eventually(
    async () => {
      const status = await runLedgerStub(env, runId).status();
      return status && FINAL.includes(status.status) ? status : null;
    },
    2400,
    50,
  );
}

/** The spec a TaskTree stored for its task. */
async function treeSpec(runId: string, task: number): Promise<RunSpec> {
  return runInDurableObject(taskTreeStub(env, runId, task) as unknown as AnyStub, (_i, state) => {
    const row = state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'spec'").one();
    return JSON.parse(row.value) as RunSpec;
  });
}

describe('a run spec is stored once', () => {
  it('a 3 MB startFrom (over D1 and Durable Object value limits) is stored once; status changes never rewrite it', async () => {
    await registerSim();
    const id = `run_once_${crypto.randomUUID().slice(0, 8)}`;
    const startFrom = Object.fromEntries([0, 1, 2].map((t) => [String(t), history(t, 50, 20_000)]));
    const spec = runSpecSchema.parse({
      tasks: [0, 1, 2],
      policy: 'sim',
      iterations: 1,
      width: 2,
      depth: 2,
      seed: 3,
      startFrom,
    });
    const specBytes = bytesOf(spec);
    const startFromBytes = bytesOf(startFrom);
    expect(specBytes).toBeGreaterThan(3_000_000);

    await ledgerSql(id, (sql) => {
      for (const statement of WRITE_LOG) sql.exec(statement);
    });
    await startRun(env, spec, { id });
    const ledger = await waitForLedger(id);
    expect(FINAL).toContain(ledger.status);
    // D1 follows the ledger (the alarm copies the final status).
    await eventually(async () => {
      const row = await env.DB.prepare('SELECT status FROM runs WHERE id = ?')
        .bind(id)
        .first<{ status: string }>();
      return row?.status === ledger.status;
    });

    // D1: the spec without startFrom (a few hundred bytes); R2: startFrom, once.
    const d1 = await env.DB.prepare(
      'SELECT length(CAST(spec AS BLOB)) AS bytes, start_from_bytes FROM runs WHERE id = ?',
    )
      .bind(id)
      .first<{ bytes: number; start_from_bytes: number }>();
    expect(d1!.bytes).toBeLessThan(2_000);
    expect(d1!.start_from_bytes).toBe(startFromBytes);
    const object = await env.BUCKET.head(runStartFromKey(id));
    expect(object?.size).toBe(startFromBytes);

    // The ledger: the spec written once (without startFrom), each history once, small status rows.
    const writes = await ledgerSql(id, (sql) =>
      rows<Write & Record<string, SqlStorageValue>>(sql, 'SELECT * FROM test_writes'),
    );
    const specWrites = writes.filter((w) => w.tbl === 'meta' && w.key === 'spec');
    expect(specWrites).toHaveLength(1);
    expect(specWrites[0]!.bytes).toBeLessThan(2_000);
    const runWrites = writes.filter((w) => w.tbl === 'meta' && w.key === 'run');
    expect(runWrites.length).toBeGreaterThanOrEqual(3); // start, final status, outbox drained, D1 synced
    for (const w of runWrites) expect(w.bytes).toBeLessThan(1_000);
    const histories = writes.filter((w) => w.tbl === 'start_from');
    expect(histories.map((w) => Number(w.key)).sort()).toEqual([0, 1, 2]);
    for (const w of histories) expect(w.bytes).toBe(bytesOf(startFrom[w.key]));
    const left = await ledgerSql(id, (sql) => ({
      histories: rows<{ n: number }>(sql, 'SELECT COUNT(*) AS n FROM start_from')[0]!.n,
      meta: rows<{ n: number }>(sql, 'SELECT SUM(length(CAST(value AS BLOB))) AS n FROM meta')[0]!.n,
    }));
    expect(left.histories).toBe(0); // every tree has its own
    expect(left.meta).toBeLessThan(3_000);
    const runBytes = runWrites.reduce((sum, w) => sum + w.bytes, 0);
    console.log(
      `spec-once: spec ${specBytes} B; D1 row spec ${d1!.bytes} B + R2 ${startFromBytes} B; ledger: spec ${specWrites[0]!.bytes} B once, ` +
        `${runWrites.length} status writes = ${runBytes} B (the old layout: ${runWrites.length} x ${specBytes} B = ${runWrites.length * specBytes} B)`,
    );

    // Each tree has its own history only.
    for (const task of [0, 1, 2]) {
      expect((await treeSpec(id, task)).startFrom).toEqual({ [String(task)]: startFrom[String(task)] });
    }

    // The API shows the whole spec: the run view, the list, the manifest.
    const expected = JSON.parse(JSON.stringify(spec));
    const view = (await (await api(`/v1/runs/${id}`)).json()) as { spec: unknown; status: string };
    expect(view.status).toBe(ledger.status);
    expect(view.spec).toEqual(expected);
    const list = (await (await api('/v1/runs?limit=200')).json()) as {
      runs: { id: string; spec: unknown }[];
    };
    expect(list.runs.find((r) => r.id === id)?.spec).toEqual(expected);
    const manifest = (await (await api(`/v1/runs/${id}/manifest`)).json()) as { config: unknown };
    expect(manifest.config).toEqual(expected);
    // Services that need only the config read D1's row: a dataset over the run.
    const dataset = await api('/v1/datasets', {
      method: 'POST',
      json: { name: 'spec-once', runIds: [id], format: 'native' },
    });
    expect(dataset.status).toBe(201);
    expect(((await dataset.json()) as { manifest: { envs: string[] } }).manifest.envs).toEqual([
      'crafting:default',
    ]);
  }, 180_000);

  it('a ledger written before the spec had its own key is migrated once on restart and finishes the run without D1', async () => {
    await registerSim();
    const id = `run_legacy_${crypto.randomUUID().slice(0, 8)}`;
    const startFrom = { '0': history(0, 2, 200), '1': history(1, 3, 200) };
    const spec = runSpecSchema.parse({
      tasks: [0, 1],
      policy: 'sim',
      iterations: 1,
      width: 2,
      depth: 2,
      startFrom,
    });
    // What `start` wrote before: the whole spec inside the status row, pending task rows. No D1
    // row: the ledger must not need one (nor the gateway) to finish.
    const now = Date.now();
    await runInDurableObject(runLedgerStub(env, id) as unknown as AnyStub, async (_i, state) => {
      const sql = state.storage.sql;
      const legacy = {
        runId: id,
        spec,
        status: 'running',
        startedAt: now,
        completedAt: null,
        d1Synced: false,
      };
      sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('run', ?)", JSON.stringify(legacy));
      for (const task of spec.tasks)
        sql.exec(
          "INSERT INTO tasks (task, status, updated_at, d1_synced) VALUES (?, 'pending', ?, 0)",
          task,
          now,
        );
      // Its alarm (run below, after the restart, rather than by this instance).
      await state.storage.setAlarm(now + 3_600_000);
    });
    // A restart: the next instance migrates the row as it is constructed.
    await runInDurableObject(runLedgerStub(env, id) as unknown as AnyStub, (_i, state) =>
      state.abort('restart'),
    ).catch(() => undefined);
    const migrated = await ledgerSql(id, (sql) => ({
      meta: rows<{ key: string; value: string }>(sql, 'SELECT key, value FROM meta ORDER BY key'),
      histories: rows<{ task: number; steps: string }>(
        sql,
        'SELECT task, steps FROM start_from ORDER BY task',
      ),
    }));
    const meta = Object.fromEntries(migrated.meta.map((r) => [r.key, JSON.parse(r.value)]));
    expect(meta.run).toEqual({
      runId: id,
      status: 'running',
      startedAt: now,
      completedAt: null,
      d1Synced: false,
    });
    const { startFrom: _moved, ...config } = JSON.parse(JSON.stringify(spec));
    expect(meta.spec).toEqual(config);
    expect(migrated.histories.map((h) => [h.task, JSON.parse(h.steps)])).toEqual([
      [0, startFrom['0']],
      [1, startFrom['1']],
    ]);
    // Another restart changes nothing (the migration is idempotent).
    await runInDurableObject(runLedgerStub(env, id) as unknown as AnyStub, (_i, state) =>
      state.abort('again'),
    ).catch(() => undefined);
    const again = await ledgerSql(id, (sql) => rows(sql, 'SELECT key, value FROM meta ORDER BY key'));
    expect(again).toEqual(migrated.meta);

    // The alarm starts the trees, each with its own history, and the run finishes.
    expect(await runDurableObjectAlarm(runLedgerStub(env, id) as unknown as AnyStub)).toBe(true);
    const ledger = await waitForLedger(id);
    expect(ledger.tasks.map((t) => t.task)).toEqual([0, 1]);
    for (const task of [0, 1]) {
      expect((await treeSpec(id, task)).startFrom).toEqual({
        [String(task)]: startFrom[String(task) as '0'],
      });
    }
    expect(await ledgerSql(id, (sql) => rows(sql, 'SELECT task FROM start_from'))).toEqual([]);
    expect(await env.DB.prepare('SELECT id FROM runs WHERE id = ?').bind(id).first()).toBeNull();
  }, 120_000);

  it('a D1 row written before startFrom moved to R2 (spec inline) still shows its whole spec', async () => {
    const id = `run_inline_${crypto.randomUUID().slice(0, 8)}`;
    const spec = runSpecSchema.parse({ tasks: [4], policy: 'sim', startFrom: { '4': history(4, 1, 100) } });
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO runs (id, status, spec, task_count, created_at, updated_at, completed_at) VALUES (?, 'completed', ?, 1, ?, ?, ?)",
    )
      .bind(id, JSON.stringify(spec), now, now, now)
      .run();
    const view = (await (await api(`/v1/runs/${id}`)).json()) as { spec: unknown; status: string };
    expect(view.status).toBe('completed');
    expect(view.spec).toEqual(JSON.parse(JSON.stringify(spec)));
    const manifest = (await (await api(`/v1/runs/${id}/manifest`)).json()) as { config: unknown };
    expect(manifest.config).toEqual(JSON.parse(JSON.stringify(spec)));
  });
});
