import { env as workerEnv } from 'cloudflare:workers';
import { expect, inject } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { runLedgerStub } from '../../workers/common/env';
import { taskRecordsKey } from '../../workers/common/storage-keys';
import { api, eventually, recordLineReader } from './helpers';

/**
 * What every durability scenario asserts once its run has ended (issue 15): D1 and the RunLedger
 * agree (the run's status and end time, every task's row and counts, the records' index rows) and
 * the run.completed webhook arrived exactly once.
 */

const env = workerEnv as unknown as CoordinatorBindings;
const FINAL_RUN = ['completed', 'partial', 'failed', 'cancelled'];

/** Subscribes a fresh receiver bucket to run.completed (webhooks are global: every run reaches it). */
export async function runCompletedHook(): Promise<string> {
  const bucket = `st${crypto.randomUUID().slice(0, 8)}`;
  const created = await api('/v1/webhooks', {
    method: 'POST',
    json: { url: `${inject('webhookReceiverUrl')}/hook/${bucket}`, events: ['run.completed'] },
  });
  expect(created.status).toBe(201);
  return bucket;
}

/** run.completed deliveries for `runId` that reached `bucket`. */
export async function deliveriesFor(bucket: string, runId: string): Promise<string[]> {
  const all = (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as {
    body: string;
  }[];
  return all
    .map((r) => r.body)
    .filter((body) => (JSON.parse(body) as { data?: { runId?: string } }).data?.runId === runId);
}

export interface Settled {
  status: string;
  /** The webhook bodies that arrived (exactly one). */
  deliveries: string[];
  /** D1's index rows for the run's records (equal to the ledger's revision + good). */
  indexRows: number;
}

/**
 * Waits (bounded) until D1 says what the ledger says, then asserts they agree in full and that
 * run.completed reached `bucket` once (a second delivery is waited for, 1.5 s, and must not come).
 */
export async function expectSettled(runId: string, bucket: string): Promise<Settled> {
  const ledger = await eventually(async () => {
    const status = await runLedgerStub(env, runId).status();
    if (!status || !FINAL_RUN.includes(status.status)) return null;
    const row = await env.DB.prepare('SELECT status, completed_at FROM runs WHERE id = ?')
      .bind(runId)
      .first<{ status: string; completed_at: number | null }>();
    const tasks = await env.DB.prepare('SELECT COUNT(*) AS n FROM run_tasks WHERE run_id = ?')
      .bind(runId)
      .first<{ n: number }>();
    // The copy is made by the ledger's alarm when a write failed: wait for it, bounded.
    return row?.status === status.status && row.completed_at !== null && tasks?.n === status.tasks.length
      ? status
      : null;
  }, 600);
  const { results: rows } = await env.DB.prepare(
    'SELECT task, status, revision_records, good_records FROM run_tasks WHERE run_id = ? ORDER BY task',
  )
    .bind(runId)
    .all<{ task: number; status: string; revision_records: number; good_records: number }>();
  // D1 has no 'cancelled' task status: a cancelled task is copied as failed (with its reason).
  expect(rows.map((r) => [r.task, r.status])).toEqual(
    ledger.tasks.map((t) => [t.task, t.status === 'cancelled' ? 'failed' : t.status]),
  );
  expect(rows.reduce((sum, r) => sum + r.revision_records, 0)).toBe(ledger.counters.revision);
  expect(rows.reduce((sum, r) => sum + r.good_records, 0)).toBe(ledger.counters.good);
  const index = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
    .bind(runId)
    .first<{ n: number }>();
  const indexRows = index?.n ?? 0;
  // A cancelled run too: a task whose splice was accepted just before the cancel keeps its records
  // and is counted done; a refused splice's records are taken back before the cancel answers.
  expect(indexRows).toBe(ledger.counters.revision + ledger.counters.good);
  const view = (await (await api(`/v1/runs/${runId}`)).json()) as { status: string };
  expect(view.status).toBe(ledger.status);
  await eventually(async () => (await deliveriesFor(bucket, runId)).length > 0, 400);
  await new Promise((r) => setTimeout(r, 1500));
  const deliveries = await deliveriesFor(bucket, runId);
  expect(deliveries).toHaveLength(1);
  expect(JSON.parse(deliveries[0]!)).toMatchObject({ data: { runId, status: ledger.status } });
  return { status: ledger.status, deliveries, indexRows };
}

/** What a run produced (each task's tree and records), with its id taken out so two runs of one spec compare equal. */
export async function runOutputs(id: string, tasks: number[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const task of tasks) {
    out[`tree:${task}`] = await (await api(`/v1/runs/${id}/tasks/${task}/tree`)).json();
    for (const kind of ['revision', 'good'] as const) {
      const text = (await (await env.BUCKET.get(taskRecordsKey(id, task, kind)))?.text()) ?? '';
      out[`${kind}:${task}`] = text
        .split('\n')
        .filter(Boolean)
        .map(recordLineReader())
        // Record ids hash the run id: compare everything else.
        .map(({ id: _id, run_id: _run, ...rest }) => rest);
    }
  }
  const index = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
    .bind(id)
    .first<{ n: number }>();
  out.indexRows = index?.n;
  return out;
}
