import { env as workerEnv } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { signDownloadPath } from '../../shared/iterations/download-links';
import { signBuildHook } from '../../shared/webhooks/build-hook';
import { SIGNATURE_HEADER, signatureHeader, unixNow } from '../../shared/webhooks/signing';
import type { CoreBindings } from '../../workers/common/env';
import { startOncePerKey } from '../../workers/gateway/src/services/hook-claims';
import { api } from './helpers';

// Issue 16: a signed request works once. The build hook's signature covers
// "<t>.<idempotency-key>.<raw body>"; an accepted signature is refused when seen again; the
// trainer's callback and the signed file links are checked before any database read and answer
// one status for "no such id" and "bad signature".

const env = workerEnv as unknown as CoreBindings & { HOOK_SECRET: string };
const spec = { tasks: [0], iterations: 1, width: 1, depth: 2, seed: 5 };

async function runCount(): Promise<number> {
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM runs').first<{ n: number }>())?.n ?? 0;
}

function hook(body: string, headers: Record<string, string>, vars?: Record<string, unknown>) {
  return api('/v1/hooks/build', {
    method: 'POST',
    body,
    token: null,
    headers: { 'content-type': 'application/json', ...headers },
    ...(vars ? { vars } : {}),
  });
}

async function signed(key: string, body: string, timestamp?: number) {
  return {
    'idempotency-key': key,
    [SIGNATURE_HEADER]: await signBuildHook(env.HOOK_SECRET, key, body, timestamp),
  };
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message };
}

beforeAll(async () => {
  const put = await api('/v1/endpoints/sim', {
    method: 'PUT',
    json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy' },
  });
  expect(put.status).toBe(200);
});

describe('the signed build hook works once', () => {
  it('refuses a captured request replayed as is, and under a new idempotency key: one run only', async () => {
    const body = JSON.stringify(spec);
    const captured = await signed(`ci-${crypto.randomUUID()}`, body);
    const before = await runCount();
    expect((await hook(body, captured)).status).toBe(201);
    expect(await runCount()).toBe(before + 1);

    const replay = await errorOf(await hook(body, captured));
    expect(replay).toMatchObject({ status: 401, code: 'replayed_signature' });
    const newKey = await errorOf(
      await hook(body, { ...captured, 'idempotency-key': `evil-${crypto.randomUUID()}` }),
    );
    expect(newKey).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(await runCount()).toBe(before + 1);
  });

  it('refuses stale and future timestamps, a signature over another key, and the old "<t>.<body>" form', async () => {
    const body = JSON.stringify(spec);
    const key = `k-${crypto.randomUUID()}`;
    const before = await runCount();
    const stale = await errorOf(await hook(body, await signed(key, body, unixNow() - 301)));
    expect(stale).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(stale.message).toMatch(/tolerance 300s/);
    const future = await errorOf(await hook(body, await signed(key, body, unixNow() + 301)));
    expect(future).toMatchObject({ status: 401, code: 'invalid_signature' });
    const otherKey = await signed('another-key', body);
    const overOther = await errorOf(await hook(body, { ...otherKey, 'idempotency-key': key }));
    expect(overOther).toMatchObject({ status: 401, code: 'invalid_signature' });
    const oldForm = {
      'idempotency-key': key,
      [SIGNATURE_HEADER]: await signatureHeader(env.HOOK_SECRET, body),
    };
    expect((await hook(body, oldForm)).status).toBe(401);
    expect(await runCount()).toBe(before);
    // Inside the window, both edges verify.
    expect((await hook(body, await signed(key, body, unixNow() - 290))).status).toBe(201);
  });

  it('frees the key after an error only when no run was created', async () => {
    const key = `fix-${crypto.randomUUID()}`;
    const bad = JSON.stringify({ ...spec, policy: 'no-such-endpoint' });
    const refused = await errorOf(await hook(bad, await signed(key, bad)));
    expect(refused).toMatchObject({ status: 400, code: 'unknown_endpoint' });
    // Nothing started, so the key is free: a corrected delivery with it goes through.
    const good = JSON.stringify(spec);
    const fixed = await hook(good, await signed(key, good));
    expect(fixed.status).toBe(201);

    // A late error (after the run row exists) keeps the key; the redelivery returns that run.
    const lateKey = `late-${crypto.randomUUID()}`;
    let created = '';
    await expect(
      startOncePerKey(env, lateKey, 'sha-a', async (runId) => {
        created = runId;
        const now = Date.now();
        await env.DB.prepare(
          "INSERT INTO runs (id, status, spec, task_count, created_at, updated_at) VALUES (?, 'queued', ?, 1, ?, ?)",
        )
          .bind(runId, JSON.stringify(spec), now, now)
          .run();
        throw new Error('the ledger could not be reached');
      }),
    ).rejects.toThrow(/ledger/);
    const again = await startOncePerKey(env, lateKey, 'sha-a', async () => {
      throw new Error('must not start a second run');
    });
    expect(again).toEqual({ kind: 'existing', runId: created });
  });
});

/** A D1 binding that fails the test if anything reads it. */
const untouchableDb = new Proxy(
  {},
  {
    get() {
      throw new Error('the database was read before the signature was checked');
    },
  },
);

describe('trainer callback and signed file links', () => {
  it('answer "no such id" and "bad signature" alike, without reading the database', async () => {
    const body = JSON.stringify({ endpoint: { baseUrl: 'http://127.0.0.1:1/v1', model: 'm' } });
    const sign = {
      'content-type': 'application/json',
      [SIGNATURE_HEADER]: await signatureHeader('x'.repeat(20), body),
    };
    const answers = [];
    for (const path of [
      '/v1/iterations/itr_missing/callback',
      '/v1/iterations/itr_missing/callback?expires=99999999999&signature=00',
      `/v1/iterations/itr_missing/callback?expires=${unixNow() + 60}&signature=${'ab'.repeat(32)}`,
    ]) {
      const response = await api(path, {
        method: 'POST',
        body,
        token: null,
        headers: sign,
        vars: { DB: untouchableDb },
      });
      answers.push(await errorOf(response));
    }
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ status: 401, code: 'invalid_signature' });

    const files = [];
    for (const path of [
      '/v1/iterations/itr_missing/files/manifest.json',
      `/v1/iterations/itr_missing/files/manifest.json?expires=${unixNow() + 60}&signature=${'cd'.repeat(32)}`,
    ]) {
      files.push((await api(path, { token: null, vars: { DB: untouchableDb } })).status);
    }
    expect(files).toEqual([403, 403]);
  });

  it('a link signed by the server opens a file only for its iteration, and it expires', async () => {
    const { iterationLinkKey } = await import('../../workers/gateway/src/services/trainer');
    const key = await iterationLinkKey(env);
    const path = '/v1/iterations/itr_missing/files/manifest.json';
    // A valid link for an iteration that does not exist gets past the link check (then 404).
    expect((await api(await signDownloadPath(key, path, unixNow() + 60), { token: null })).status).toBe(404);
    expect((await api(await signDownloadPath(key, path, unixNow() - 1), { token: null })).status).toBe(403);
    const otherIteration = (await signDownloadPath(key, path, unixNow() + 60)).replace(
      'itr_missing',
      'itr_other',
    );
    expect((await api(otherIteration, { token: null })).status).toBe(403);
    // A GET link is no callback link (the method is signed too).
    const getLink = await signDownloadPath(key, '/v1/iterations/itr_missing/callback', unixNow() + 60);
    const response = await api(getLink, {
      method: 'POST',
      body: '{}',
      token: null,
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(401);
  });
});
