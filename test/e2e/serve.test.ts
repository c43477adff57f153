import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processesMatching, type ServeProcess, startServe } from '../helpers/cli-process';

describe('agent-r serve (a real process: wrangler dev with every worker + sim-policy)', () => {
  const home = mkdtempSync(join(tmpdir(), 'agent-r-serve-'));
  let serve: ServeProcess | null = null;
  afterAll(async () => {
    await serve?.stop('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('prints API_URL and API_TOKEN, serves the API with auth, and stops cleanly on SIGTERM', async () => {
    serve = await startServe([], { AGENT_R_HOME: home });
    const { apiUrl, token } = serve;
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = await fetch(`${apiUrl}/health`);
    expect(health.status).toBe(200);
    const unauthorized = await fetch(`${apiUrl}/v1/runs`);
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ error: { code: 'unauthorized' } });

    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const endpoints = (await (await fetch(`${apiUrl}/v1/endpoints`, { headers })).json()) as {
      endpoints: { name: string }[];
    };
    expect(endpoints.endpoints.map((e) => e.name)).toContain('sim');

    const created = await fetch(`${apiUrl}/v1/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ tasks: '0-1', iterations: 1, width: 2, depth: 3 }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    let status = '';
    for (let i = 0; i < 600 && !['completed', 'partial', 'failed'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = ((await (await fetch(`${apiUrl}/v1/runs/${id}`, { headers })).json()) as { status: string })
        .status;
    }
    expect(status).toBe('completed');

    const code = await serve.stop('SIGTERM');
    expect(code).toBe(0);
    // Nothing it started is left: no wrangler or workerd using this stack's state directory.
    await new Promise((r) => setTimeout(r, 500));
    expect(await processesMatching(home)).toEqual([]);
    serve = null;
  });
});
