import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { CoreBindings } from '../../workers/common/env';
import { api, eventually } from './helpers';

// Issue 16: a stored key never leaves for another host; one outbound policy; no weak defaults.
// The capture server is the integration suite's webhook receiver on 127.0.0.1 (global-setup.ts):
// it records every request (headers and body) per bucket. `localhost:<port>` reaches the same
// server under another origin, which is exactly the "point the endpoint elsewhere" attack.

const env = workerEnv as unknown as CoreBindings;

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const receiver = () => new URL(inject('webhookReceiverUrl'));
let counter = 0;
const bucket = () => `sec${Date.now().toString(36)}${counter++}`;

async function received(name: string): Promise<Received[]> {
  return (await (await fetch(`${inject('webhookReceiverUrl')}/received/${name}`)).json()) as Received[];
}

async function putEndpoint(name: string, json: Record<string, unknown>, vars?: Record<string, string>) {
  return api(`/v1/endpoints/${name}`, { method: 'PUT', json, ...(vars ? { vars } : {}) });
}

async function startRun(policy: string): Promise<string> {
  const created = await api('/v1/runs', {
    method: 'POST',
    json: { policy, tasks: [0], iterations: 1, width: 1, depth: 2, seed: 3 },
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

const leaks = (requests: Received[], key: string) =>
  requests.filter((r) => JSON.stringify(r.headers).includes(key) || r.body.includes(key));

describe('endpoint keys are bound to their destination', () => {
  it("the issue's attack: moving the base URL to another origin without a key removes the key, and B never sees it", async () => {
    const key = `sk-victim-${crypto.randomUUID()}`;
    const a = bucket();
    const b = bucket();
    const { port } = receiver();
    const first = await putEndpoint('victim', {
      baseUrl: `http://127.0.0.1:${port}/hook/${a}`,
      model: 'm',
      apiKey: key,
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ hasApiKey: true });

    // The attacker re-points the endpoint at a server of their choosing, with no key.
    const moved = await putEndpoint('victim', { baseUrl: `http://localhost:${port}/hook/${b}`, model: 'm' });
    expect(moved.status).toBe(200);
    const view = (await moved.json()) as { hasApiKey: boolean; notice?: string };
    expect(view.hasApiKey).toBe(false);
    expect(view.notice).toMatch(
      /removed because the base URL moved from http:\/\/127\.0\.0\.1:\d+ to http:\/\/localhost:\d+/,
    );
    expect(((await (await api('/v1/endpoints/victim')).json()) as { hasApiKey: boolean }).hasApiKey).toBe(
      false,
    );

    // A run with it calls B (the capture server sees the calls) but never with the key.
    const runId = await startRun('victim');
    const calls = await eventually(async () => {
      const got = await received(b);
      return got.length > 0 ? got : null;
    });
    // (the first call may be a /tokenize probe or /chat/completions: none carries the key)
    expect(calls.every((call) => call.path.startsWith(`/hook/${b}/`))).toBe(true);
    expect(calls.every((call) => call.headers.authorization === undefined)).toBe(true);
    expect(leaks(calls, key)).toEqual([]);
    await api(`/v1/runs/${runId}/cancel`, { method: 'POST' });
    expect(leaks(await received(b), key)).toEqual([]);
    expect(await received(a)).toEqual([]);
  });

  it('keeps the key across writes to the same origin (new path and model): it is sent there', async () => {
    const key = `sk-keep-${crypto.randomUUID()}`;
    const { port } = receiver();
    const first = bucket();
    const second = bucket();
    await putEndpoint('keeper', {
      baseUrl: `http://127.0.0.1:${port}/hook/${first}`,
      model: 'm1',
      apiKey: key,
    });
    const moved = await putEndpoint('keeper', {
      baseUrl: `http://127.0.0.1:${port}/hook/${second}`,
      model: 'm2',
    });
    const view = (await moved.json()) as { hasApiKey: boolean; notice?: string };
    expect(view).toMatchObject({ hasApiKey: true, model: 'm2' });
    expect(view.notice).toBeUndefined();
    const runId = await startRun('keeper');
    const calls = await eventually(async () => {
      const got = (await received(second)).filter((call) => call.path.endsWith('/chat/completions'));
      return got.length > 0 ? got : null;
    });
    await api(`/v1/runs/${runId}/cancel`, { method: 'POST' });
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${key}`);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ model: 'm2' });
  });

  it('a row re-pointed behind the API (in the database) cannot open its key: the run fails, B sees nothing', async () => {
    const key = `sk-tamper-${crypto.randomUUID()}`;
    const { port } = receiver();
    const b = bucket();
    await putEndpoint('tampered', {
      baseUrl: `http://127.0.0.1:${port}/hook/${bucket()}`,
      model: 'm',
      apiKey: key,
    });
    await env.DB.prepare('UPDATE endpoints SET base_url = ? WHERE name = ?')
      .bind(`http://localhost:${port}/hook/${b}`, 'tampered')
      .run();
    const runId = await startRun('tampered');
    const run = await eventually(async () => {
      const view = (await (await api(`/v1/runs/${runId}`)).json()) as {
        status: string;
        error?: string | null;
      };
      return ['failed', 'partial', 'completed'].includes(view.status) ? view : null;
    }, 600);
    expect(run.status).toBe('failed');
    const tasks = await env.DB.prepare('SELECT error FROM run_tasks WHERE run_id = ?')
      .bind(runId)
      .all<{ error: string | null }>();
    expect(tasks.results.map((t) => t.error).join(' ')).toMatch(/does not open for its current base URL/);
    expect(await received(b)).toEqual([]);
  });
});

describe('webhook secrets are bound to their URL', () => {
  it('a webhook whose URL was changed in the database is not delivered (its secret does not open)', async () => {
    const { port } = receiver();
    const b = bucket();
    const created = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: `http://127.0.0.1:${port}/hook/${bucket()}`, events: ['run.completed'] },
    });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string; secret: string };
    await env.DB.prepare('UPDATE webhooks SET url = ? WHERE id = ?')
      .bind(`http://localhost:${port}/hook/${b}`, hook.id)
      .run();
    const { emitEvent } = await import('../../workers/gateway/src/services/webhooks');
    await emitEvent(env, 'run.completed', { runId: 'run_x', status: 'completed' });
    const delivery = await eventually(async () => {
      const list = (await (await api(`/v1/webhooks/${hook.id}/deliveries`)).json()) as {
        deliveries: { status: string; lastError: string | null }[];
      };
      return list.deliveries.find((d) => d.status === 'failed');
    });
    expect(delivery.lastError).toMatch(/cannot open the webhook secret/);
    expect(await received(b)).toEqual([]);
  });

  it("records a failed delivery as status + reason, never the receiver's body", async () => {
    const name = bucket();
    const created = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: `${inject('webhookReceiverUrl')}/hook/${name}?fail=always`, events: ['run.completed'] },
    });
    const hook = (await created.json()) as { id: string };
    const { emitEvent } = await import('../../workers/gateway/src/services/webhooks');
    await emitEvent(env, 'run.completed', { runId: 'run_y', status: 'completed' });
    const delivery = await eventually(async () => {
      const list = (await (await api(`/v1/webhooks/${hook.id}/deliveries`)).json()) as {
        deliveries: { attempts: number; lastError: string | null; lastStatusCode: number | null }[];
      };
      return list.deliveries.find((d) => d.attempts > 0 && d.lastError);
    });
    expect(delivery.lastStatusCode).toBe(500);
    expect(delivery.lastError).toMatch(/^HTTP 500 Internal Server Error/);
    expect(delivery.lastError).not.toContain('receiver says no');
  });
});

describe('outbound policy', () => {
  const production = { ENVIRONMENT: 'production' };

  it('in production refuses loopback, private, link-local and metadata hosts, unless allow-listed', async () => {
    for (const baseUrl of [
      'http://127.0.0.1:8000/v1',
      'http://localhost:8000/v1',
      'http://2130706433/v1', // 127.0.0.1 as one number: the URL parser normalises it
      'http://10.1.2.3/v1',
      'http://192.168.0.10/v1',
      'http://172.20.0.1/v1',
      'http://169.254.169.254/latest/meta-data',
      'http://metadata.google.internal/computeMetadata/v1',
      'http://[::1]:8000/v1',
      'http://[fd00:ec2::254]/v1',
      'http://[::ffff:127.0.0.1]/v1',
      'http://[fe80::1]/v1',
    ]) {
      const refused = await putEndpoint('prod-ep', { baseUrl, model: 'm' }, production);
      expect(refused.status, baseUrl).toBe(400);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code, baseUrl).toBe('outbound_refused');
      expect(body.error.message, baseUrl).toMatch(/OUTBOUND_ALLOW/);
    }
    expect(
      (await putEndpoint('prod-ep', { baseUrl: 'https://api.example.com/v1', model: 'm' }, production))
        .status,
    ).toBe(200);
    const allowed = await putEndpoint(
      'prod-ep',
      { baseUrl: 'http://10.1.2.3:8000/v1', model: 'm' },
      { ...production, OUTBOUND_ALLOW: 'gpu-box.internal, 10.1.2.3:8000' },
    );
    expect(allowed.status).toBe(200);
    const otherPort = await putEndpoint(
      'prod-ep',
      { baseUrl: 'http://10.1.2.3:9000/v1', model: 'm' },
      { ...production, OUTBOUND_ALLOW: '10.1.2.3:8000' },
    );
    expect(otherPort.status).toBe(400);
  });

  it('applies to webhook URLs, trainer URLs and env servers too; locally loopback is allowed', async () => {
    const hook = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: 'http://169.254.169.254/hook', events: ['run.completed'] },
      vars: production,
    });
    expect(hook.status).toBe(400);
    expect(((await hook.json()) as { error: { code: string } }).error.code).toBe('outbound_refused');
    const run = await api('/v1/runs', {
      method: 'POST',
      json: { env: 'textcraft', envServer: 'http://127.0.0.1:36001', tasks: [0] },
      vars: production,
    });
    expect(run.status).toBe(400);
    const loop = await api('/v1/loops', {
      method: 'POST',
      json: {
        name: 'l',
        policy: 'victim',
        build: { tasks: [0] },
        trainerUrl: 'http://10.0.0.5/train',
        trainerSecret: 'a-trainer-secret-0123456789',
      },
      vars: production,
    });
    expect(loop.status).toBe(400);
    // Locally (ENVIRONMENT=local) the same loopback webhook is accepted, as tests and wrangler dev need.
    const local = await api('/v1/webhooks', {
      method: 'POST',
      json: { url: `${inject('webhookReceiverUrl')}/hook/${bucket()}`, events: ['run.completed'] },
    });
    expect(local.status).toBe(201);
  });
});

describe('no silent weak defaults', () => {
  it('production without SECRETS_KEY, ADMIN_TOKEN or HOOK_SECRET refuses work with a clear 503', async () => {
    for (const missing of ['SECRETS_KEY', 'ADMIN_TOKEN', 'HOOK_SECRET']) {
      const response = await api('/v1/runs', { vars: { ENVIRONMENT: 'production', [missing]: undefined } });
      expect(response.status, missing).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_configured');
      expect(body.error.message).toContain(missing);
    }
    const health = await api('/health', { vars: { ENVIRONMENT: 'production', SECRETS_KEY: undefined } });
    expect(health.status).toBe(200);
    // With all three set, production answers normally.
    expect((await api('/v1/runs', { vars: { ENVIRONMENT: 'production' } })).status).toBe(200);
  });
});
