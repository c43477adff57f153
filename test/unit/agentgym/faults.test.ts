import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { type FakeTextCraftServer, startFakeTextCraft } from '../../../cli/bench/fakes/agentgym-textcraft';
import { scriptedTextCraftGame } from '../../../cli/bench/fakes/scripted-textcraft-game';
import { FAST_RETRY, HANG_TIMEOUT_MS, TIMEOUT_MS, callsTo, rejection } from './helpers';

describe('AgentGym client under server faults', () => {
  let server: FakeTextCraftServer;
  const open = (options: { envId?: number; timeoutMs?: number; baseUrl?: string } = {}) =>
    createAgentGymSession({
      baseUrl: options.baseUrl ?? server.url,
      flavor: 'textcraft',
      envId: options.envId,
      timeoutMs: options.timeoutMs ?? TIMEOUT_MS,
      retry: FAST_RETRY,
    });

  beforeAll(async () => {
    server = await startFakeTextCraft({ game: scriptedTextCraftGame });
  });
  afterAll(async () => {
    await server.close();
  });

  it('retries a 500 on reset (idempotent) and succeeds', async () => {
    const session = open();
    await session.ensureCreated();
    const before = callsTo(server.calls, '/reset').length;
    server.setFaults({ fail5xxNext: 1, faultPaths: ['/reset'] });
    expect((await session.reset(0)).done).toBe(false);
    const resets = callsTo(server.calls, '/reset').slice(before);
    expect(resets.map((call) => call.status)).toEqual([500, 200]);
  });

  it('retries a 503 on step (the request never ran) and succeeds', async () => {
    const session = open();
    await session.reset(0);
    const before = callsTo(server.calls, '/step').length;
    server.setFaults({ fail5xxNext: 2, status5xx: 503, faultPaths: ['/step'] });
    expect((await session.step('get 1 lapis lazuli')).observation).toBe('Got 1 lapis lazuli');
    expect(
      callsTo(server.calls, '/step')
        .slice(before)
        .map((call) => call.status),
    ).toEqual([503, 503, 200]);
  });

  it('does not resend a step after a 500 (it may have run): server-error, then reset needed', async () => {
    const session = open();
    await session.reset(0);
    const before = callsTo(server.calls, '/step').length;
    server.setFaults({ fail5xxNext: 1, faultPaths: ['/step'] });
    const error = await rejection(session.step('get 1 lapis lazuli'));
    expect(error).toMatchObject({ kind: 'server-error', status: 500, attempts: 1 });
    expect(callsTo(server.calls, '/step')).toHaveLength(before + 1);
    expect(await rejection(session.step('inventory'))).toMatchObject({ kind: 'state-lost' });
    await session.reset(0);
    expect((await session.step('inventory')).done).toBe(false);
  });

  it('gives up after the bounded attempts when 5xx never stops, saying the server stayed down', async () => {
    const session = open();
    await session.ensureCreated();
    server.setFaults({ rate5xx: 1, faultPaths: ['/reset'] });
    const error = await rejection(session.reset(0));
    server.setFaults({});
    expect(error).toMatchObject({ kind: 'unavailable', attempts: FAST_RETRY.maxAttempts, status: 500 });
    expect((error as Error).message).toMatch(/stayed down: 3 attempts failed/);
  });

  it('reports a server that is down for good clearly after bounded attempts', async () => {
    const gone = await startFakeTextCraft({ game: scriptedTextCraftGame });
    const url = gone.url;
    await gone.close();
    const error = await rejection(open({ baseUrl: url }).reset(0));
    expect(error).toMatchObject({
      kind: 'unavailable',
      attempts: FAST_RETRY.maxAttempts,
      endpoint: 'POST /create',
    });
    const message = (error as Error).message;
    expect(message).toContain(url);
    expect(message).toContain('POST /create');
    expect(message).toContain('stayed down');
    expect(message).toContain('ECONNREFUSED');
  });

  it('does not resend a step when the server dies mid-session (the socket closed: it may have run)', async () => {
    const dying = await startFakeTextCraft({ game: scriptedTextCraftGame });
    const session = open({ baseUrl: dying.url });
    await session.reset(0);
    await dying.close();
    const error = await rejection(session.step('inventory'));
    expect(error).toMatchObject({ kind: 'unavailable', attempts: 1 });
    expect((error as Error).message).toContain('not retried');
    expect(await rejection(session.step('inventory'))).toMatchObject({ kind: 'state-lost' });
    expect(await rejection(session.reset(0))).toMatchObject({
      kind: 'unavailable',
      attempts: FAST_RETRY.maxAttempts,
    });
  });

  it('resends a step whose connection was refused (nothing reached the server)', async () => {
    let refusals = 2;
    const refusingFetch: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/step') && refusals-- > 0) {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' }),
        });
      }
      return fetch(input, init);
    };
    const session = createAgentGymSession({
      baseUrl: server.url,
      flavor: 'textcraft',
      timeoutMs: TIMEOUT_MS,
      retry: FAST_RETRY,
      fetch: refusingFetch,
    });
    await session.reset(0);
    expect((await session.step('get 1 lapis lazuli')).observation).toBe('Got 1 lapis lazuli');
    expect(refusals).toBeLessThan(0);
  });

  it('times out a step that never gets an answer, without resending it', async () => {
    const session = open({ timeoutMs: HANG_TIMEOUT_MS });
    await session.reset(0);
    const before = callsTo(server.calls, '/step').length;
    server.setFaults({ hangIds: [session.envId!] });
    const error = await rejection(session.step('inventory'));
    server.setFaults({});
    expect(error).toMatchObject({ kind: 'timeout', attempts: 1, endpoint: 'POST /step' });
    expect((error as Error).message).toContain(`no answer within ${HANG_TIMEOUT_MS} ms`);
    expect(callsTo(server.calls, '/step')).toHaveLength(before + 1);
  });

  it('retries a hanging reset up to the bound, then reports that it kept timing out', async () => {
    const session = open({ timeoutMs: HANG_TIMEOUT_MS });
    await session.ensureCreated();
    const before = callsTo(server.calls, '/reset').length;
    server.setFaults({ hangPaths: ['/reset'] });
    const error = await rejection(session.reset(0));
    server.setFaults({});
    expect(error).toMatchObject({ kind: 'timeout', attempts: FAST_RETRY.maxAttempts });
    expect((error as Error).message).toContain('kept timing out');
    expect(callsTo(server.calls, '/reset')).toHaveLength(before + FAST_RETRY.maxAttempts);
    expect((await session.reset(0)).done).toBe(false); // recovered once the server answers again
  });

  it('survives a seeded 30% 5xx rate on idempotent calls', async () => {
    server.setFaults({ rate5xx: 0.3, seed: 7, faultPaths: ['/create', '/reset'] });
    const session = createAgentGymSession({
      baseUrl: server.url,
      flavor: 'textcraft',
      timeoutMs: TIMEOUT_MS,
      retry: { maxAttempts: 8, baseDelayMs: 1, maxDelayMs: 5 },
    });
    for (let task = 0; task < 10; task++) expect((await session.reset(task)).done).toBe(false);
    server.setFaults({});
  });
});
