import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { CoreBindings } from '../../workers/common/env';
import { api } from './helpers';
import type { TokenCreated, TokenView } from '../../shared/contracts/tokens';

const env = workerEnv as unknown as CoreBindings;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

describe('API tokens', () => {
  it('creates a token shown once, stores only its SHA-256, and revokes it', async () => {
    const created = await api('/v1/tokens', {
      method: 'POST',
      json: { name: 'ci pipeline', scopes: ['admin'] },
    });
    expect(created.status).toBe(201);
    const view = (await created.json()) as TokenCreated;
    expect(view.name).toBe('ci pipeline');
    expect(view.revokedAt).toBeNull();
    const token = view.token as string;
    expect(token).toMatch(/^ar_[A-Za-z0-9_-]{43}$/);

    const row = await env.DB.prepare('SELECT * FROM api_tokens WHERE id = ?')
      .bind(view.id)
      .first<Record<string, unknown>>();
    expect(row?.token_hash).toBe(await sha256Hex(token));
    expect(JSON.stringify(row)).not.toContain(token);

    // The new token works for the API, including token management.
    expect((await api('/v1/runs', { token })).status).toBe(200);
    const listed = await api('/v1/tokens', { token });
    expect(listed.status).toBe(200);
    const listText = await listed.text();
    expect(listText).not.toContain(token);
    expect(listText).not.toContain(String(row?.token_hash));
    const tokens = (JSON.parse(listText) as { tokens: TokenView[] }).tokens;
    const mine = tokens.find((t) => t.id === view.id);
    expect(mine).toMatchObject({ id: view.id, name: 'ci pipeline', revokedAt: null });
    expect(mine).not.toHaveProperty('token');

    const revoked = await api(`/v1/tokens/${view.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    const revokedView = (await revoked.json()) as TokenView;
    expect(revokedView.revokedAt).toBeGreaterThan(0);

    const refused = await api('/v1/runs', { token });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'unauthorized' } });
    // Revoking twice is harmless and keeps the first time.
    const again = await api(`/v1/tokens/${view.id}`, { method: 'DELETE' });
    expect(((await again.json()) as TokenView).revokedAt).toBe(revokedView.revokedAt);
  });

  it('gives every token a different value', async () => {
    const values = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const response = await api('/v1/tokens', { method: 'POST', json: { name: `t${i}` } });
      values.add(((await response.json()) as TokenCreated).token);
    }
    expect(values.size).toBe(5);
  });

  it('validates names and ids with the error envelope', async () => {
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 7 },
      { name: 'a', extra: 1 },
    ]) {
      const response = await api('/v1/tokens', { method: 'POST', json: body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_request' } });
    }
    const missing = await api('/v1/tokens/tok_nope', { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await api('/v1/tokens', { method: 'POST', json: { name: 'x' }, token: null })).status).toBe(401);
  });
});
