import { createScheduledController } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { CoreBindings } from '../../workers/common/env';
import { emitEvent } from '../../workers/gateway/src/services/webhooks';
import { type Fault, faultyQueue } from './fault-hooks';
import { api, eventually } from './helpers';
import worker from './worker';

const env = workerEnv as unknown as CoreBindings;

/** What the cron trigger does once a minute: the gateway's scheduled handler. */
async function cronTick(): Promise<void> {
  await worker.scheduled(
    createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }),
    env as never,
  );
}

async function delivery(id: string) {
  return env.DB.prepare('SELECT status, attempts, last_error FROM webhook_deliveries WHERE id = ?')
    .bind(id)
    .first<{ status: string; attempts: number; last_error: string | null }>();
}

async function received(bucket: string): Promise<string[]> {
  const all = (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as {
    body: string;
  }[];
  return all.map((r) => r.body);
}

/** Time passing, for a row: its timestamps moved `ms` into the past. */
async function age(table: 'webhook_deliveries' | 'datasets', id: string, ms: number): Promise<void> {
  const columns =
    table === 'datasets'
      ? 'created_at = created_at - ?1'
      : 'created_at = created_at - ?1, updated_at = updated_at - ?1';
  await env.DB.prepare(`UPDATE ${table} SET ${columns} WHERE id = ?2`).bind(ms, id).run();
}

/** A webhook for `event` only, delivering to a fresh receiver bucket. */
async function subscribe(event: string): Promise<string> {
  const bucket = `rc${crypto.randomUUID().slice(0, 8)}`;
  const created = await api('/v1/webhooks', {
    method: 'POST',
    json: { url: `${inject('webhookReceiverUrl')}/hook/${bucket}`, events: [event] },
  });
  expect(created.status).toBe(201);
  return bucket;
}

/** An emit whose EVENTS.sendBatch fails after the delivery row was written: the row is left pending. */
async function emitWithQueueDown(event: 'eval.completed', marker: string): Promise<string> {
  const fault: Fault = { on: true, hits: 0 };
  const down = { ...env, EVENTS: faultyQueue(env.EVENTS, fault) } as CoreBindings;
  await expect(emitEvent(down, event, { marker })).rejects.toThrow(/queue.send failed/);
  expect(fault.hits).toBe(1);
  const row = await env.DB.prepare("SELECT id FROM webhook_deliveries WHERE payload LIKE '%' || ? || '%'")
    .bind(marker)
    .first<{ id: string }>();
  expect(row).not.toBeNull();
  return row!.id;
}

describe('the reconciler (the gateway cron): nothing stays silently stuck', () => {
  it('a delivery left pending by a failed EVENTS.send is queued again once overdue and delivered once', async () => {
    const bucket = await subscribe('eval.completed');
    const marker = `m-${crypto.randomUUID()}`;
    const id = await emitWithQueueDown('eval.completed', marker);
    expect((await delivery(id))?.status).toBe('pending');
    // Not overdue yet: the reconciler leaves it alone.
    await cronTick();
    await new Promise((r) => setTimeout(r, 500));
    expect(await received(bucket)).toEqual([]);
    // Six minutes later it is: re-queued, delivered, once.
    await age('webhook_deliveries', id, 6 * 60_000);
    await cronTick();
    const done = await eventually(async () => {
      const row = await delivery(id);
      return row?.status === 'delivered' ? row : null;
    }, 200);
    expect(done.attempts).toBe(1);
    await cronTick();
    await new Promise((r) => setTimeout(r, 1000));
    const got = await received(bucket);
    expect(got).toHaveLength(1);
    expect(got[0]).toContain(marker);
  });

  it('a delivery pending for more than a day is failed with the reason', async () => {
    const bucket = await subscribe('eval.completed');
    const id = await emitWithQueueDown('eval.completed', `g-${crypto.randomUUID()}`);
    await age('webhook_deliveries', id, 25 * 3_600_000);
    await cronTick();
    const row = await delivery(id);
    expect(row?.status).toBe('failed');
    expect(row?.last_error).toMatch(/never delivered: still pending after 25 h/);
    expect(await received(bucket)).toEqual([]);
  });

  it('a dataset left building by a request that died is failed with the reason; a young one is left alone', async () => {
    const insert = (id: string) =>
      env.DB.prepare(
        `INSERT INTO datasets (id, name, format, run_ids, manifest, status, created_at)
         VALUES (?, 'stuck', 'native', '[]', '{}', 'building', ?)`,
      )
        .bind(id, Date.now())
        .run();
    const old = `ds_stuck${crypto.randomUUID().slice(0, 8)}`;
    const young = `ds_young${crypto.randomUUID().slice(0, 8)}`;
    await insert(old);
    await insert(young);
    await age('datasets', old, 31 * 60_000);
    await cronTick();
    const view = (await (await api(`/v1/datasets/${old}`)).json()) as {
      status: string;
      error: string | null;
    };
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/still building after 31 min .*create the dataset again/);
    const other = (await (await api(`/v1/datasets/${young}`)).json()) as { status: string };
    expect(other.status).toBe('building');
  });
});

describe('the reconciler without a cron: an API request runs it (at most once per interval)', () => {
  it('a stuck delivery and a stuck dataset are repaired by an ordinary request, with no scheduled handler', async () => {
    const bucket = await subscribe('eval.completed');
    const marker = `r-${crypto.randomUUID()}`;
    const id = await emitWithQueueDown('eval.completed', marker);
    // Every delivery of this emit (earlier tests' webhooks get one too) is overdue.
    await env.DB.prepare(
      "UPDATE webhook_deliveries SET created_at = created_at - ?1, updated_at = updated_at - ?1 WHERE payload LIKE '%' || ?2 || '%'",
    )
      .bind(6 * 60_000, marker)
      .run();
    const dataset = `ds_req${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.prepare(
      `INSERT INTO datasets (id, name, format, run_ids, manifest, status, created_at)
       VALUES (?, 'stuck', 'native', '[]', '{}', 'building', ?)`,
    )
      .bind(dataset, Date.now() - 31 * 60_000)
      .run();
    // Any request: the interval is 0 here so this one runs it whatever ran before in this isolate.
    // No cronTick() anywhere in this test.
    const listed = await api('/v1/datasets', { vars: { RECONCILE_INTERVAL_MS: '0' } });
    expect(listed.status).toBe(200);
    const done = await eventually(async () => {
      const row = await delivery(id);
      return row?.status === 'delivered' ? row : null;
    }, 200);
    expect(done.attempts).toBe(1);
    await eventually(async () => (await received(bucket)).length > 0, 200);
    const view = (await (await api(`/v1/datasets/${dataset}`)).json()) as { status: string; error: string };
    expect(view.status).toBe('failed');
    expect(view.error).toMatch(/still building after 31 min/);
    // With the default interval, the next requests do not run it again: delivered once.
    await api('/v1/datasets');
    await new Promise((r) => setTimeout(r, 1000));
    const got = await received(bucket);
    expect(got).toHaveLength(1);
    expect(got[0]).toContain(marker);
  });
});
