import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvError } from '../../../shared/env/agentgym/errors';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE } from '../../../shared/env/agentgym/textcraft-action';
import { type FakeTextCraftServer, startFakeTextCraft } from '../../../cli/bench/fakes/agentgym-textcraft';
import { scriptedTextCraftGame } from '../../../cli/bench/fakes/scripted-textcraft-game';
import { FAST_RETRY, TIMEOUT_MS, callsTo, rejection } from './helpers';

const SOLVE_LIGHT_BLUE = [
  'get 1 lapis lazuli',
  'get 1 lily of the valley',
  'craft 1 blue dye using 1 lapis lazuli',
  'craft 1 white dye using 1 lily of the valley',
  'craft 2 light blue dye using 1 blue dye, 1 white dye',
];

describe('AgentGym TextCraft client', () => {
  let server: FakeTextCraftServer;
  let v2024: FakeTextCraftServer;
  const open = (envId?: number, baseUrl = server.url) =>
    createAgentGymSession({ baseUrl, flavor: 'textcraft', envId, timeoutMs: TIMEOUT_MS, retry: FAST_RETRY });

  beforeAll(async () => {
    server = await startFakeTextCraft({ version: 'v2025', game: scriptedTextCraftGame });
    v2024 = await startFakeTextCraft({ version: 'v2024', game: scriptedTextCraftGame });
  });
  afterAll(async () => {
    await server.close();
    await v2024.close();
  });

  it('creates with a {} body, resets with {id, data_idx} and plays a task to the goal', async () => {
    const session = open();
    const first = await session.reset(1);
    expect(first).toEqual({
      observation: expect.stringMatching(/^Crafting commands:\n/),
      reward: 0,
      done: false,
    });
    expect(first.observation).toMatch(/\n\nGoal: craft light blue dye\.$/);
    const id = session.envId!;
    const created = callsTo(server.calls, '/create').at(-1)!;
    expect(created.body).toEqual({});
    expect(callsTo(server.calls, '/reset').at(-1)!.body).toEqual({ id, data_idx: 1 });

    const results = [];
    for (const action of SOLVE_LIGHT_BLUE) results.push(await session.step(action));
    expect(results[0]).toEqual({ observation: 'Got 1 lapis lazuli', reward: 0, done: false });
    expect(results.at(-1)).toEqual({
      observation: 'Crafted 2 minecraft:light_blue_dye',
      reward: 1,
      done: true,
    });
    expect(session.stepCount).toBe(SOLVE_LIGHT_BLUE.length);
  });

  it('cleans a full model response like AgentGym before sending it', async () => {
    const session = open();
    await session.reset(0);
    const result = await session.step('Thought:\nI need lapis.\n\nAction:\nget 1 lapis-lazuli!\nmore text');
    expect(callsTo(server.calls, '/step').at(-1)!.body).toEqual({
      id: session.envId,
      action: 'get 1 lapislazuli',
    });
    expect(result.observation).toBe('Could not find lapislazuli');
  });

  it('answers two Action: markers with the error message without calling the server', async () => {
    const session = open();
    await session.reset(0);
    const before = callsTo(server.calls, '/step').length;
    const result = await session.step('Action: get 1 lapis lazuli\nAction: inventory');
    expect(result).toEqual({ observation: TEXTCRAFT_MULTIPLE_ACTIONS_MESSAGE, reward: 0, done: false });
    expect(callsTo(server.calls, '/step')).toHaveLength(before);
  });

  it('stops stepping at done: returns the final result again without a call', async () => {
    const session = open();
    await session.reset(0);
    await session.step('get 1 lapis lazuli');
    const final = await session.step('craft 1 blue dye using 1 lapis lazuli');
    expect(final).toMatchObject({ reward: 1, done: true });
    const before = callsTo(server.calls, '/step').length;
    expect(await session.step('inventory')).toEqual(final);
    expect(callsTo(server.calls, '/step')).toHaveLength(before);
  });

  it('treats HTTP 200 {"error"} as a failure with the server URL and endpoint in the message', async () => {
    const session = open();
    await session.reset(0);
    server.setFaults({ errorOnce: { path: '/step', message: 'boom inside the env' } });
    const error = await rejection(session.step('inventory'));
    expect(error).toBeInstanceOf(EnvError);
    expect(error).toMatchObject({ kind: 'env-error', endpoint: 'POST /step', server: server.url });
    expect((error as Error).message).toContain(`POST /step on ${server.url}`);
    expect((error as Error).message).toContain('boom inside the env');
    // The step's outcome is unknown now: reset first.
    expect(await rejection(session.step('inventory'))).toMatchObject({ kind: 'state-lost' });
    await session.reset(0);
    expect((await session.step('inventory')).observation).toBe('Inventory: You are not carrying anything.');
  });

  it('reports an unknown env id as invalid-id (the server says "The id N is not valid.")', async () => {
    const session = open(4242);
    const error = await rejection(session.reset(0));
    expect(error).toMatchObject({ kind: 'invalid-id', attempts: 1 });
    expect((error as Error).message).toContain('The id 4242 is not valid.');
  });

  it('refuses to step an adopted env before reset, and has no snapshots', async () => {
    const session = open(0);
    expect(await rejection(session.step('inventory'))).toMatchObject({ kind: 'misuse' });
    expect(await session.snapshot()).toBeNull();
    expect(await rejection(session.restore('{}'))).toMatchObject({ kind: 'misuse' });
  });

  it('adopts an existing env id without calling /create', async () => {
    const owner = open();
    const id = await owner.ensureCreated();
    const creates = callsTo(server.calls, '/create').length;
    const adopted = open(id);
    await adopted.reset(0);
    expect(adopted.envId).toBe(id);
    expect(callsTo(server.calls, '/create')).toHaveLength(creates);
  });

  it('serialises concurrent calls on one session', async () => {
    const session = open();
    await session.reset(0);
    await Promise.all([session.step('get 1 lapis lazuli'), session.step('get 1 lapis lazuli')]);
    expect((await session.step('inventory')).observation).toBe('Inventory: [lapis lazuli] (2) ');
  });

  it('closes through /close on v2025 (the id is gone afterwards) and tolerates a second close', async () => {
    const session = open();
    const id = await session.ensureCreated();
    await session.close();
    expect(server.envIds()).not.toContain(id);
    expect(callsTo(server.calls, '/close').at(-1)!.body).toEqual({ id });
    await session.close(); // no-op
    await open(id).close(); // the server answers false: already gone
    expect(await rejection(session.reset(0))).toMatchObject({ kind: 'misuse' });
  });

  it('tolerates the 404 of a v2024 server without /close', async () => {
    const session = open(undefined, v2024.url);
    await session.reset(0);
    await session.close();
    expect(callsTo(v2024.calls, '/close').at(-1)!.status).toBe(404);
  });
});
