import { env as workerEnv } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { runLedgerStub, taskTreeStub } from '../../workers/common/env';
import { taskRecordsKey } from '../../workers/common/storage-keys';
import { proxySpace, simEndpoint } from './fault-hooks';
import { measureRun, reportFaultResult } from './fault-results';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook } from './settled';
import { armSpliceHold, disarmSpliceHold } from './splice-hold';

// Issue 15, "cancel is final": after POST /v1/runs/:id/cancel answers, no record of the run is
// written. The hard case is a splice that passed its last check and is about to write: it is held
// right there (splice-hold.ts wraps the splicer's R2 binding; everything else is the product's
// code on real workerd), the cancel is sent, and the splice is let go while the cancel waits.

const env = workerEnv as unknown as CoordinatorBindings;

afterEach(() => disarmSpliceHold());

/** A one-task run on sim-policy; returns its id and the webhook receiver bucket. */
async function oneTaskRun(seed: number, more: Record<string, unknown> = {}) {
  const proxy = await proxySpace({});
  const policy = await simEndpoint(proxy.llm, { maxConcurrency: 8 });
  const bucket = await runCompletedHook();
  const created = await api('/v1/runs', {
    method: 'POST',
    json: { tasks: [0], iterations: 2, width: 2, depth: 4, seed, policy, ...more },
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  return { id, bucket, proxy };
}

/** What of the run is visible: its R2 objects and its D1 index rows. */
async function visible(runId: string): Promise<{ objects: string[]; rows: number }> {
  const listed = await env.BUCKET.list({ prefix: `runs/${runId}/` });
  const row = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
    .bind(runId)
    .first<{ n: number }>();
  // The run's start-from file (written at creation, when there is one) is not a record.
  const objects = listed.objects.map((o) => o.key).filter((key) => !key.endsWith('start-from.json'));
  return { objects, rows: row?.n ?? 0 };
}

/** Polls `visible` for `ms` after the answer; every sighting of a record of the run is returned. */
async function watchAfter(runId: string, ms: number): Promise<string[]> {
  const seen: string[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const now = await visible(runId);
    if (now.objects.length || now.rows) seen.push(`${now.objects.join(',')} rows=${now.rows}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return seen;
}

describe('cancel is final while a splice writes', () => {
  it('a splice held after its last check: the cancel answers only once it stopped; no record of the run exists or is written after the answer', async () => {
    const { id, bucket, proxy } = await oneTaskRun(21);
    const hold = armSpliceHold(id, 'put');
    await eventually(async () => hold.held, 600, 20);
    expect(await taskTreeStub(env, id, 0).status()).toBe('splicing');
    const callsAtHold = (await proxy.stats()).completions ?? 0;
    const sentAt = Date.now();
    const cancel = api(`/v1/runs/${id}/cancel`, { method: 'POST' });
    // The splice resumes while the cancel is being answered (its first file goes out now).
    await new Promise((r) => setTimeout(r, 300));
    hold.release();
    const answer = await cancel;
    const answeredAt = Date.now();
    expect(answer.status).toBe(200);
    const atAnswer = await visible(id);
    const sightings = await watchAfter(id, 3000);
    const lateWrites = hold.writes.filter((w) => (w.end ?? Number.POSITIVE_INFINITY) > answeredAt);
    console.log(
      `cancel while a splice writes: answered in ${answeredAt - sentAt} ms; splice writes ` +
        `${JSON.stringify(hold.writes.map((w) => [w.what.split('/').pop(), w.start - sentAt, w.end && w.end - sentAt]))}; ` +
        `visible at the answer ${JSON.stringify(atAnswer)}, sightings after ${sightings.length}`,
    );
    const settled = await expectSettled(id, bucket);
    const measured = await measureRun(id, [0]);
    // Measured first, asserted after: the bench (faults.cancel_while_splice_writes) shows the
    // figures of a failing run too.
    await reportFaultResult({
      scenario: 'cancel_while_splice_writes',
      status: settled.status,
      endS: (answeredAt - sentAt) / 1000,
      lost: measured.lost,
      duplicated: measured.duplicated,
      webhooks: settled.deliveries.length,
      facts: {
        cancel_answer_ms: answeredAt - sentAt,
        splice_writes_before_answer: hold.writes.length - lateWrites.length,
        splice_writes_after_answer: lateWrites.length,
        records_visible_at_answer: atAnswer.objects.length + atAnswer.rows,
        records_seen_after_answer: sightings.length,
        calls_after_hold: ((await proxy.stats()).completions ?? 0) - callsAtHold,
        records: measured.records,
        index_rows: measured.indexRows,
      },
    });
    // Nothing of the task at the answer, nothing appearing later, no write ending after it.
    expect(atAnswer).toEqual({ objects: [], rows: 0 });
    expect(sightings).toEqual([]);
    expect(lateWrites).toEqual([]);
    // The splice comes after the search: no inference call was made after the hold either.
    expect((await proxy.stats()).completions ?? 0).toBe(callsAtHold);
    expect(await taskTreeStub(env, id, 0).status()).toBe('cancelled');
    expect((await runLedgerStub(env, id).status())?.status).toBe('cancelled');
    for (const kind of ['revision', 'good'] as const)
      expect(await env.BUCKET.head(taskRecordsKey(id, 0, kind))).toBeNull();
    expect(settled.status).toBe('cancelled');
    expect(measured).toMatchObject({ lost: 0, duplicated: 0, records: 0, indexRows: 0 });
    expect(settled.indexRows).toBe(0);
  });
});

describe('a splice that dies while writing leaves nothing visible', () => {
  /**
   * A one-task run whose splice message is held back before delivery; the test takes the splice
   * job itself (as the consumer would), gets the write permit and writes half of the records
   * (a revision file of garbage), then stops: a splicer that died mid-write.
   */
  async function deadWriter(seed: number, more: Record<string, unknown> = {}) {
    const run = await oneTaskRun(seed, more);
    const hold = armSpliceHold(run.id, 'delivery');
    const tree = taskTreeStub(env, run.id, 0);
    await eventually(async () => hold.held, 600, 20);
    const job = await tree.getJob('splice', 1);
    expect(job?.kind).toBe('splice');
    expect(await tree.beginWrite('splice', 1)).toBe(true);
    await env.BUCKET.put(taskRecordsKey(run.id, 0, 'revision'), '{"half": "a record');
    return { ...run, hold, tree };
  }

  it('cancel waits out the dead writer lease, removes what it wrote, then answers; nothing appears later', async () => {
    const { id, bucket, hold, tree } = await deadWriter(22);
    const sentAt = Date.now();
    const answer = await api(`/v1/runs/${id}/cancel`, { method: 'POST' });
    const answeredAt = Date.now();
    expect(answer.status).toBe(200);
    const atAnswer = await visible(id);
    // The held message is delivered now: the real splicer finds the job taken and cancelled.
    hold.release();
    const sightings = await watchAfter(id, 3000);
    console.log(
      `cancel with a dead writer: answered in ${answeredAt - sentAt} ms; at the answer ${JSON.stringify(atAnswer)}`,
    );
    expect(atAnswer).toEqual({ objects: [], rows: 0 });
    expect(sightings).toEqual([]);
    // It waited for the lease (no renewal came), bounded: 10 s (WRITE_LEASE_MS) plus slack.
    expect(answeredAt - sentAt).toBeLessThan(15_000);
    expect(await tree.status()).toBe('cancelled');
    expect(await tree.beginWrite('splice', 1)).toBe(false);
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('cancelled');
    expect(settled.indexRows).toBe(0);
  });

  it('without a cancel, the next attempt replaces the half-written file: the run completes with every record once', async () => {
    // The dead attempt is noticed at its deadline (2 s here) and the splice sent again.
    const { id, bucket, hold, tree } = await deadWriter(23, { jobTimeoutMs: 2000 });
    hold.release();
    const done = await eventually(async () => ((await tree.status()) === 'done' ? true : null), 600, 50);
    expect(done).toBe(true);
    const settled = await expectSettled(id, bucket);
    expect(settled.status).toBe('completed');
    const progress = await tree.progress();
    const lines = async (kind: 'revision' | 'good') => {
      const text = (await (await env.BUCKET.get(taskRecordsKey(id, 0, kind)))?.text()) ?? '';
      return text.split('\n').filter((line) => line.trim() !== '');
    };
    const revision = await lines('revision');
    expect(revision.join('\n')).not.toContain('"half"');
    expect(revision.length).toBe(progress?.revision);
    expect((await lines('good')).length).toBe(progress?.good);
    // Index rows: one per record, none twice.
    expect(settled.indexRows).toBe((progress?.revision ?? 0) + (progress?.good ?? 0));
    const ids = await env.DB.prepare('SELECT COUNT(DISTINCT id) AS n FROM trajectories WHERE run_id = ?')
      .bind(id)
      .first<{ n: number }>();
    expect(ids?.n).toBe(settled.indexRows);
  });
});
