import { env as workerEnv } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunFinishedMessage } from '../../shared/contracts/messages';
import type { RunCounters } from '../../shared/contracts/run-view';
import { signBuildHook } from '../../shared/webhooks/build-hook';
import { SIGNATURE_HEADER, unixNow, verifySignature } from '../../shared/webhooks/signing';
import type { CoreBindings } from '../../workers/common/env';
import { emitEvent, MAX_DELIVERY_ATTEMPTS } from '../../workers/gateway/src/services/webhooks';
import { api, eventually } from './helpers';
import type { RunView } from '../../shared/contracts/run-view';
import type { DeliveryView as Delivery } from '../../shared/contracts/webhooks';

const env = workerEnv as unknown as CoreBindings & { HOOK_SECRET: string };
const HOOK_SECRET = env.HOOK_SECRET;

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

let bucketCounter = 0;
function receiverUrl(query = ''): { url: string; bucket: string } {
  const bucket = `b${Date.now().toString(36)}${bucketCounter++}`;
  return { url: `${inject('webhookReceiverUrl')}/hook/${bucket}${query}`, bucket };
}

async function received(bucket: string): Promise<Received[]> {
  return (await (await fetch(`${inject('webhookReceiverUrl')}/received/${bucket}`)).json()) as Received[];
}

async function runCount(): Promise<number> {
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM runs').first<{ n: number }>())?.n ?? 0;
}

async function postHook(
  body: string,
  options: {
    key?: string | null;
    secret?: string;
    timestamp?: number;
    signature?: string | null;
    token?: string;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const key = options.key === null ? '' : (options.key ?? `key-${crypto.randomUUID()}`);
  if (options.key !== null) headers['idempotency-key'] = key;
  if (options.signature !== null) {
    // The build hook signs "<t>.<idempotency-key>.<raw body>" (shared/webhooks/build-hook.ts).
    headers[SIGNATURE_HEADER] =
      options.signature ?? (await signBuildHook(options.secret ?? HOOK_SECRET, key, body, options.timestamp));
  }
  return api('/v1/hooks/build', { method: 'POST', body, headers, token: options.token ?? null });
}

async function expectEnvelope(response: Response, status: number, code?: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.message).toBe('string');
  if (code) expect(body.error.code).toBe(code);
  return body.error.message;
}

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy' },
  });
  expect(put.status).toBe(200);
});

describe('inbound build webhook POST /v1/hooks/build', () => {
  const spec = { tasks: [0], iterations: 1, width: 2, depth: 4, seed: 11 };

  it('starts a build on a good signature without a bearer token, once per idempotency key', async () => {
    const body = JSON.stringify(spec);
    const key = `deploy-${crypto.randomUUID()}`;
    const before = await runCount();
    const first = await postHook(body, { key });
    expect(first.status).toBe(201);
    const run = (await first.json()) as RunView;
    expect(run.id).toMatch(/^run_/);
    expect(first.headers.get('location')).toBe(`/v1/runs/${run.id}`);
    expect(await runCount()).toBe(before + 1);

    // A redelivery: same key and body, signed again later. Never a second build.
    const replay = await postHook(body, { key, timestamp: unixNow() + 5 });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as RunView).id).toBe(run.id);
    const again = await postHook(body, { key, timestamp: unixNow() - 5 });
    expect(((await again.json()) as RunView).id).toBe(run.id);
    expect(await runCount()).toBe(before + 1);

    // The same key with another body is a client bug, not a redelivery.
    await expectEnvelope(
      await postHook(JSON.stringify({ ...spec, seed: 12 }), { key }),
      422,
      'idempotency_key_reused',
    );
    expect(await runCount()).toBe(before + 1);
  });

  it('refuses wrong, stale, future, malformed and missing signatures with 401 and starts nothing', async () => {
    const body = JSON.stringify(spec);
    const before = await runCount();
    await expectEnvelope(await postHook(body, { secret: 'not-the-secret' }), 401, 'invalid_signature');
    const stale = await expectEnvelope(
      await postHook(body, { timestamp: unixNow() - 600 }),
      401,
      'invalid_signature',
    );
    expect(stale).toMatch(/tolerance/);
    await expectEnvelope(await postHook(body, { timestamp: unixNow() + 600 }), 401, 'invalid_signature');
    await expectEnvelope(await postHook(body, { signature: 't=123,v1=nothex' }), 401, 'invalid_signature');
    await expectEnvelope(await postHook(body, { signature: null }), 401, 'invalid_signature');
    // A signature over other bytes (e.g. re-serialised JSON) does not verify.
    const signedOther = await signBuildHook(HOOK_SECRET, 'k', JSON.stringify(spec, null, 2));
    await expectEnvelope(await postHook(body, { signature: signedOther }), 401, 'invalid_signature');
    // A valid bearer token is no substitute for the signature.
    await expectEnvelope(await postHook(body, { signature: null, token: 'test-admin-token' }), 401);
    expect(await runCount()).toBe(before);
  });

  it('validates the spec and the idempotency key like POST /v1/runs, after the signature', async () => {
    await expectEnvelope(await postHook(JSON.stringify({ tasks: [], width: 'x' })), 400, 'invalid_request');
    await expectEnvelope(await postHook('{"tasks":', {}), 400);
    await expectEnvelope(await postHook(JSON.stringify(spec), { key: null }), 400, 'invalid_request');
    await expectEnvelope(await postHook(JSON.stringify(spec), { key: 'has space' }), 400, 'invalid_request');
    await expectEnvelope(
      await postHook(JSON.stringify({ ...spec, tasks: '0-1' }).replace('"0-1"', '"2-1"')),
      400,
    );
  });

  it('frees the key when the build is refused, so a corrected redelivery goes through', async () => {
    const key = `fix-${crypto.randomUUID()}`;
    await expectEnvelope(
      await postHook(JSON.stringify({ ...spec, policy: 'nope' }), { key }),
      400,
      'unknown_endpoint',
    );
    const fixed = await postHook(JSON.stringify(spec), { key });
    expect(fixed.status).toBe(201);
  });
});

async function createWebhook(url: string, events: string[], secret?: string) {
  const response = await api('/v1/webhooks', {
    method: 'POST',
    json: { url, events, ...(secret ? { secret } : {}) },
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; url: string; events: string[]; secret?: string };
}

async function deliveries(webhookId: string): Promise<Delivery[]> {
  const response = await api(`/v1/webhooks/${webhookId}/deliveries`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { deliveries: Delivery[] }).deliveries;
}

describe('outbound webhooks', () => {
  it('manages subscriptions; the secret is write-only and stored encrypted', async () => {
    const { url } = receiverUrl();
    const own = await createWebhook(url, ['dataset.ready'], 'my-own-secret-0123456789');
    expect(own.secret).toBeUndefined();
    const generated = await createWebhook(url, ['run.completed', 'eval.completed']);
    expect(generated.secret).toMatch(/^whsec_/);
    const list = await api('/v1/webhooks');
    const text = await list.text();
    expect(text).toContain(own.id);
    expect(text).not.toContain('my-own-secret');
    expect(text).not.toContain(generated.secret);
    const one = (await (await api(`/v1/webhooks/${own.id}`)).json()) as Record<string, unknown>;
    expect(one).toMatchObject({ id: own.id, url, events: ['dataset.ready'], active: true });
    expect(one).not.toHaveProperty('secret');
    const row = await env.DB.prepare('SELECT secret_ciphertext FROM webhooks WHERE id = ?')
      .bind(own.id)
      .first<{ secret_ciphertext: string }>();
    expect(row?.secret_ciphertext).toBeTruthy();
    expect(row?.secret_ciphertext).not.toContain('my-own-secret');

    for (const bad of [
      { url: 'ftp://example.com/x', events: ['run.completed'] },
      { url: 'not a url', events: ['run.completed'] },
      { url, events: [] },
      { url, events: ['run.started'] },
      { url, events: ['run.completed', 'run.completed'] },
      { url, events: ['run.completed'], secret: 'short' },
      { url, events: ['run.completed'], extra: 1 },
    ]) {
      await expectEnvelope(await api('/v1/webhooks', { method: 'POST', json: bad }), 400, 'invalid_request');
    }

    expect((await api(`/v1/webhooks/${own.id}`, { method: 'DELETE' })).status).toBe(200);
    await expectEnvelope(await api(`/v1/webhooks/${own.id}`), 404, 'not_found');
    await expectEnvelope(await api(`/v1/webhooks/${own.id}/deliveries`), 404, 'not_found');
    await expectEnvelope(await api(`/v1/webhooks/${own.id}`, { method: 'DELETE' }), 404, 'not_found');
  });

  it('delivers run.completed, signed, when a run finishes; other subscriptions get nothing', async () => {
    const secret = 'run-completed-secret-0123';
    const target = receiverUrl();
    const other = receiverUrl();
    const hook = await createWebhook(target.url, ['run.completed'], secret);
    await createWebhook(other.url, ['dataset.ready'], secret);

    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0, 1], iterations: 1, width: 2, depth: 4 },
    });
    expect(created.status).toBe(201);
    const run = (await created.json()) as RunView;

    const got = await eventually(async () => {
      const mine = (await received(target.bucket)).filter((r) => r.body.includes(run.id));
      return mine.length > 0 ? mine : null;
    }, 400);
    expect(got).toHaveLength(1);
    const request = got[0] as Received;
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-agent-r-event']).toBe('run.completed');
    expect(await verifySignature(secret, request.body, request.headers[SIGNATURE_HEADER])).toMatchObject({
      ok: true,
    });
    expect(
      await verifySignature('wrong-secret-000000', request.body, request.headers[SIGNATURE_HEADER]),
    ).toMatchObject({
      ok: false,
    });
    const body = JSON.parse(request.body) as {
      id: string;
      event: string;
      data: { runId: string; status: string; counts: Record<string, number>; links: Record<string, unknown> };
    };
    expect(body.id).toBe(request.headers['x-agent-r-delivery']);
    expect(body.event).toBe('run.completed');
    expect(body.data.runId).toBe(run.id);
    expect(body.data.status).toBe('completed');
    expect(body.data.counts.tasks).toBe(2);
    expect(body.data.counts.tasksDone).toBe(2);
    expect(body.data.links.manifest).toBe(`/v1/runs/${run.id}/manifest`);
    expect(body.data.links.datasets).toMatchObject({
      openai: `/v1/runs/${run.id}/dataset?format=openai`,
      sharegpt: `/v1/runs/${run.id}/dataset?format=sharegpt`,
    });
    // The links work.
    expect((await api(body.data.links.manifest as string)).status).toBe(200);

    const log = await eventually(async () => {
      const list = (await deliveries(hook.id)).filter((d) => d.id === body.id);
      return list[0]?.status === 'delivered' ? list : null;
    });
    expect(log[0]).toMatchObject({
      event: 'run.completed',
      status: 'delivered',
      attempts: 1,
      lastStatusCode: 204,
    });
    expect((await received(other.bucket)).filter((r) => r.body.includes(run.id))).toHaveLength(0);
  });

  it('a run.finished message delivered again (a crash before its ack) sends run.completed once', async () => {
    const target = receiverUrl();
    const hook = await createWebhook(target.url, ['run.completed'], 'redelivered-secret-0123');
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0], iterations: 1, width: 2, depth: 4 },
    });
    const run = (await created.json()) as RunView;
    const ofRun = async () => (await received(target.bucket)).filter((r) => r.body.includes(run.id));
    const first = await eventually(async () => {
      const mine = await ofRun();
      return mine.length > 0 ? mine : null;
    }, 400);
    // The same message as the RunLedger sent, queued again: the queue delivers at least once.
    const view = (await (await api(`/v1/runs/${run.id}`)).json()) as RunView & { counters: RunCounters };
    const message: RunFinishedMessage = {
      type: 'run.finished',
      runId: run.id,
      status: 'completed',
      counters: view.counters,
      completedAt: Date.now(),
    };
    await env.EVENTS.send(message, { contentType: 'json' });
    await env.EVENTS.send(message, { contentType: 'json' });
    // A marker event queued after them: once it arrived, the redelivered messages were handled.
    const marker = receiverUrl();
    const markerHook = await createWebhook(marker.url, ['eval.completed']);
    await emitEvent(env, 'eval.completed', { evalId: run.id });
    await eventually(
      async () => ((await deliveries(markerHook.id))[0]?.status === 'delivered' ? true : null),
      400,
    );
    expect(first).toHaveLength(1);
    expect(await ofRun()).toHaveLength(1);
    const deliveryId = first[0]?.headers['x-agent-r-delivery'];
    expect((await deliveries(hook.id)).filter((d) => d.id === deliveryId)).toHaveLength(1);
  });

  it('retries a failing receiver with the same signed body until it succeeds', async () => {
    const secret = 'retry-secret-0123456789';
    const target = receiverUrl('?fail=2');
    const hook = await createWebhook(target.url, ['eval.completed'], secret);
    const marker = crypto.randomUUID();
    const ids = await emitEvent(env, 'eval.completed', { evalId: marker });
    expect(ids.length).toBeGreaterThanOrEqual(1);
    const log = await eventually(async () => {
      const mine = (await deliveries(hook.id))[0];
      return mine?.status === 'delivered' ? mine : null;
    }, 400);
    expect(log).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 204, lastError: null });
    const got = await received(target.bucket);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect(got.map((r) => r.headers['x-agent-r-attempt'])).toEqual(['1', '2', '3']);
    for (const r of got) {
      expect(await verifySignature(secret, r.body, r.headers[SIGNATURE_HEADER])).toMatchObject({ ok: true });
      expect(JSON.parse(r.body)).toMatchObject({ event: 'eval.completed', data: { evalId: marker } });
    }
  });

  it(`gives up after ${MAX_DELIVERY_ATTEMPTS} attempts and records the failure`, async () => {
    const target = receiverUrl('?fail=always');
    const hook = await createWebhook(target.url, ['iteration.completed']);
    await emitEvent(env, 'iteration.completed', { iterationId: 'it_x' });
    const log = await eventually(async () => {
      const mine = (await deliveries(hook.id))[0];
      return mine?.status === 'failed' ? mine : null;
    }, 400);
    expect(log.attempts).toBe(MAX_DELIVERY_ATTEMPTS);
    expect(log.lastStatusCode).toBe(500);
    // Status and reason only: the receiver's body ("receiver says no") is never recorded.
    expect(log.lastError).toMatch(/HTTP 500 Internal Server Error/);
    expect(log.lastError).not.toMatch(/receiver says no/);
    expect(await received(target.bucket)).toHaveLength(MAX_DELIVERY_ATTEMPTS);
    const failedOnly = await api(`/v1/webhooks/${hook.id}/deliveries?status=failed`);
    expect(((await failedOnly.json()) as { deliveries: Delivery[] }).deliveries).toHaveLength(1);
    const delivered = await api(`/v1/webhooks/${hook.id}/deliveries?status=delivered`);
    expect(((await delivered.json()) as { deliveries: Delivery[] }).deliveries).toHaveLength(0);
  });
});
