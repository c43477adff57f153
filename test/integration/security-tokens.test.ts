import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { CoreBindings } from '../../workers/common/env';
import { api, eventually } from './helpers';

// Issue 16: least privilege (scopes, expiry, lastUsedAt, revocation closing live sockets) and
// abuse limits (Cloudflare's rate-limiting binding, run by miniflare here).

const env = workerEnv as unknown as CoreBindings & { TEST_STRICT_LIMIT: RateLimit };

async function createToken(json: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const created = await api('/v1/tokens', { method: 'POST', json });
  expect(created.status).toBe(201);
  return (await created.json()) as { id: string; token: string };
}

describe('token scopes', () => {
  it('a read token gets 403 with a clear message on every write route of the OpenAPI document', async () => {
    const doc = (await (await api('/openapi.json', { token: null })).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    // Every bearer write route (the signed ones, with `security: []`, take no token at all).
    const writes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(
          ([method, op]) => ['post', 'put', 'patch', 'delete'].includes(method) && op.security?.length !== 0,
        )
        .map(([method]) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, '0')] as const),
    );
    expect(writes.length).toBeGreaterThan(15);
    const { token } = await createToken({ name: 'reader', scopes: ['read'] });
    expect((await api('/v1/runs', { token })).status).toBe(200);
    for (const [method, path] of writes) {
      if (path.endsWith('/live-ticket')) continue; // watching is reading: allowed (tested below)
      const response = await api(path, { method, token, json: {} });
      expect(response.status, `${method} ${path}`).toBe(403);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('forbidden');
      expect(body.error.message).toMatch(/this token has the read scope; .* needs (build|admin)/);
    }
  });

  it('build may start work but not touch endpoints, webhooks, worlds or tokens; admin may', async () => {
    const { token: build } = await createToken({ name: 'builder', scopes: ['build'] });
    expect((await api('/v1/runs', { method: 'POST', token: build, json: { tasks: [] } })).status).toBe(400);
    expect((await api('/v1/endpoints', { token: build })).status).toBe(403);
    expect((await api('/v1/tokens', { token: build })).status).toBe(403);
    const { token: admin } = await createToken({ name: 'admin', scopes: ['admin'] });
    expect((await api('/v1/tokens', { token: admin })).status).toBe(200);
    const bad = await api('/v1/tokens', { method: 'POST', json: { name: 'x', scopes: ['root'] } });
    expect(bad.status).toBe(400);
  });
});

describe('expiry, lastUsedAt and revocation', () => {
  it('an expired token and a revoked token get 401', async () => {
    const expiring = await createToken({ name: 'short', scopes: ['read'], expiresInDays: 1 });
    expect((await api('/v1/runs', { token: expiring.token })).status).toBe(200);
    await env.DB.prepare('UPDATE api_tokens SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, expiring.id)
      .run();
    const expired = await api('/v1/runs', { token: expiring.token });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired/);

    const revoking = await createToken({ name: 'gone', scopes: ['read'] });
    expect((await api('/v1/runs', { token: revoking.token })).status).toBe(200);
    expect((await api(`/v1/tokens/${revoking.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api('/v1/runs', { token: revoking.token })).status).toBe(401);
  });

  it('records lastUsedAt when a token is used', async () => {
    const { id, token } = await createToken({ name: 'used', scopes: ['read'] });
    const before = Date.now();
    await api('/v1/runs', { token });
    const row = await env.DB.prepare('SELECT last_used_at FROM api_tokens WHERE id = ?')
      .bind(id)
      .first<{ last_used_at: number | null }>();
    expect(row?.last_used_at).toBeGreaterThanOrEqual(before);
  });

  it('revoking a token closes its live dashboard sockets within seconds', async () => {
    const put = await api('/v1/endpoints/sim', {
      method: 'PUT',
      json: { baseUrl: 'http://127.0.0.1:9/v1', model: 'nothing' },
    });
    expect(put.status).toBe(200);
    const created = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0], iterations: 1, width: 1, depth: 1 },
    });
    const runId = ((await created.json()) as { id: string }).id;
    const { id, token } = await createToken({ name: 'watcher', scopes: ['read'] });
    const ticket = await api(`/v1/runs/${runId}/tasks/0/live-ticket`, { method: 'POST', token });
    expect(ticket.status).toBe(200);
    const { url } = (await ticket.json()) as { url: string };
    const upgrade = await api(url, { token: null, headers: { upgrade: 'websocket' } });
    expect(upgrade.status).toBe(101);
    const socket = upgrade.webSocket!;
    socket.accept();
    let closedWith: number | null = null;
    socket.addEventListener('close', (event) => {
      closedWith = event.code;
    });
    const revokedAt = Date.now();
    expect((await api(`/v1/tokens/${id}`, { method: 'DELETE' })).status).toBe(200);
    await eventually(async () => closedWith !== null, 100, 50);
    expect(closedWith).toBe(4001);
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    // A ticket bought before the revocation opens nothing any more.
    expect((await api(url, { token: null, headers: { upgrade: 'websocket' } })).status).toBe(401);
    await api(`/v1/runs/${runId}/cancel`, { method: 'POST' });
  });
});

describe('rate limits (Cloudflare rate-limiting binding)', () => {
  const strict = () => ({ RATE_LIMIT_TOKEN: env.TEST_STRICT_LIMIT, RATE_LIMIT_TOKEN_PERIOD: '10' });

  it('a burst over the per-token limit gets 429 with retry-after, then is accepted after it', async () => {
    const { token } = await createToken({ name: 'burst', scopes: ['read'] });
    const statuses: number[] = [];
    let retryAfter = '';
    for (let i = 0; i < 6; i++) {
      const response = await api('/v1/runs', { token, vars: strict() });
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after') ?? '';
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      }
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses).toContain(429);
    expect(retryAfter).toBe('10');
    await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000 + 500));
    expect((await api('/v1/runs', { token, vars: strict() })).status).toBe(200);
  }, 30_000);

  it('limits unauthenticated routes per IP before anything else (the signed hook too)', async () => {
    const ip = { RATE_LIMIT_IP: env.TEST_STRICT_LIMIT, RATE_LIMIT_IP_PERIOD: '10' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await api('/v1/hooks/build', {
        method: 'POST',
        token: null,
        body: '{}',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.9' },
        vars: ip,
      });
      statuses.push(response.status);
      if (response.status === 429) expect(response.headers.get('retry-after')).toBe('10');
    }
    expect(statuses.slice(0, 3).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    // Another address is not affected.
    const other = await api('/v1/hooks/build', {
      method: 'POST',
      token: null,
      body: '{}',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.10' },
      vars: ip,
    });
    expect(other.status).toBe(401);
  });
});
