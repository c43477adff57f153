import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonTransport } from '../../../shared/env/agentgym/http-transport';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { type FakeWebShopServer, startFakeWebShop } from '../../fakes/agentgym-webshop';
import { FAST_RETRY, TIMEOUT_MS, callsTo, rejection } from './helpers';

const BUY_RED_SHIRT = ['search[red cotton t-shirt]', 'click[B0001]', 'click[buy now]'];

describe('AgentGym WebShop client', () => {
  let server: FakeWebShopServer;
  let v2024: FakeWebShopServer;
  const open = (envId?: number, baseUrl = server.url) =>
    createAgentGymSession({ baseUrl, flavor: 'webshop', envId, timeoutMs: TIMEOUT_MS, retry: FAST_RETRY });

  beforeAll(async () => {
    server = await startFakeWebShop({ version: 'v2025', seed: 3 });
    v2024 = await startFakeWebShop({ version: 'v2024', seed: 4 });
  });
  afterAll(async () => {
    await server.close();
    await v2024.close();
  });

  it('uses env_idx, a bare-int /create and the [observation, null] reset', async () => {
    const session = open();
    const first = await session.reset(0);
    expect(first).toEqual({
      observation:
        'WebShop [SEP] Instruction: [SEP] i need a red cotton t-shirt, and price lower than 30.00 dollars [SEP] Search',
      reward: 0,
      done: false,
    });
    expect(callsTo(server.calls, '/create').at(-1)!.body).toBeUndefined();
    expect(callsTo(server.calls, '/reset').at(-1)!.body).toEqual({ env_idx: session.envId, session_id: 0 });
    expect(server.envIds()).toContain(session.envId);
  });

  it('plays search -> click item -> buy now to a reward of 1 (observation = state)', async () => {
    const session = open();
    await session.reset(0);
    const results = [];
    for (const action of BUY_RED_SHIRT) results.push(await session.step(action));
    expect(results[0]!.observation).toContain('Page 1 (Total results: 2)');
    expect(results[1]!.observation).toContain('Price: $19.99');
    expect(results[2]).toMatchObject({ reward: 1, done: true });
    expect(callsTo(server.calls, '/step').at(-1)!.body).toEqual({
      env_idx: session.envId,
      action: 'click[buy now]',
    });
  });

  it('gives partial rewards and treats invalid actions as no-ops', async () => {
    const session = open();
    const start = await session.reset(0);
    expect(await session.step('click[buy now]')).toEqual(start);
    await session.step('search[red]');
    await session.step('click[b0003]');
    expect(await session.step('Thought: fine.\nAction: click[Buy Now]')).toMatchObject({
      reward: 0.25,
      done: true,
    });
  });

  it('reports an unknown env_idx (HTTP 500 on the real server) as invalid-id via /list_envs', async () => {
    const error = await rejection(open(123).reset(0));
    expect(error).toMatchObject({ kind: 'invalid-id', status: 500 });
    expect((error as Error).message).toContain('env_idx 123');
    expect(await rejection(open(123, v2024.url).step('search[x]'))).toMatchObject({ kind: 'misuse' });
  });

  it('does not resend a step that crashed with 500', async () => {
    const session = open();
    await session.reset(1);
    server.setFaults({ fail5xxNext: 1, faultPaths: ['/step'] });
    const before = callsTo(server.calls, '/step').length;
    expect(await rejection(session.step('search[mug]'))).toMatchObject({ kind: 'server-error', attempts: 1 });
    expect(callsTo(server.calls, '/step')).toHaveLength(before + 1);
  });

  it('surfaces a 422 (a missing field) as a protocol error without retrying', async () => {
    const transport = createJsonTransport({ baseUrl: server.url, timeoutMs: TIMEOUT_MS, retry: FAST_RETRY });
    const error = await rejection(
      transport.request({
        method: 'POST',
        path: '/step',
        body: { action: 'search[x]' },
        safety: 'idempotent',
      }),
    );
    expect(error).toMatchObject({ kind: 'protocol', status: 422, attempts: 1 });
    expect((error as Error).message).toContain('"loc":["body","env_idx"]');
  });

  it('closes through /close on v2025 and tolerates its absence (404) on v2024', async () => {
    const session = open();
    const id = await session.ensureCreated();
    await session.close();
    expect(server.envIds()).not.toContain(id);
    const old = open(undefined, v2024.url);
    const oldId = await old.ensureCreated();
    await old.close();
    expect(callsTo(v2024.calls, '/close').at(-1)!.status).toBe(404);
    expect(v2024.envIds()).toContain(oldId); // v2024 cannot free it
  });
});
