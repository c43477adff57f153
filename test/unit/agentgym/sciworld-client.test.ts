import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { type FakeSciWorldServer, startFakeSciWorld } from '../../fakes/agentgym-sciworld';
import { SCRIPTED_SCIWORLD_TASKS } from '../../fakes/scripted-sciworld-game';
import { FAST_RETRY, TIMEOUT_MS, callsTo, rejection } from './helpers';

describe('AgentGym SciWorld client', () => {
  let server: FakeSciWorldServer;
  let v2024: FakeSciWorldServer;
  const open = (envId?: number, baseUrl = server.url) =>
    createAgentGymSession({ baseUrl, flavor: 'sciworld', envId, timeoutMs: TIMEOUT_MS, retry: FAST_RETRY });

  beforeAll(async () => {
    server = await startFakeSciWorld({ version: 'v2025' });
    v2024 = await startFakeSciWorld({ version: 'v2024' });
  });
  afterAll(async () => {
    await server.close();
    await v2024.close();
  });

  it('creates without a body and starts with task_description + "\\n" + observation', async () => {
    const session = open();
    const first = await session.reset(0);
    const task = SCRIPTED_SCIWORLD_TASKS[0]!;
    expect(first).toEqual({ observation: `${task.description}\n${task.room}`, reward: 0, done: false });
    expect(callsTo(server.calls, '/create').at(-1)!.body).toBeUndefined();
    expect(callsTo(server.calls, '/reset').at(-1)!.body).toEqual({ id: session.envId, data_idx: 0 });
  });

  it('normalises the score to [0, 1] and ends at 100', async () => {
    const session = open();
    await session.reset(0);
    const rewards: number[] = [];
    let done = false;
    for (const action of SCRIPTED_SCIWORLD_TASKS[0]!.solution) {
      const result = await session.step(action);
      rewards.push(result.reward);
      done = result.done;
      expect(result.failed).toBeUndefined();
    }
    expect(rewards).toEqual([0.25, 0.5, 0.75, 1]);
    expect(done).toBe(true);
  });

  it('turns a score of -100 into a terminal failure with reward 0', async () => {
    const session = open();
    await session.reset(0);
    const result = await session.step('focus on stove');
    expect(result).toEqual({ observation: 'You focus on the stove.', reward: 0, done: true, failed: true });
  });

  it('never sends a step after done (the server would answer {"error": "... has finished."})', async () => {
    const session = open();
    await session.reset(1);
    const final = await session.step('focus on water');
    const before = callsTo(server.calls, '/step').length;
    expect(await session.step('look around')).toEqual(final);
    expect(callsTo(server.calls, '/step')).toHaveLength(before);

    // The quirk itself, straight on the wire.
    const raw = await fetch(`${server.url}/step`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: session.envId, action: 'look around' }),
    });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toBe(`{"error":"The task with environment ${session.envId} has finished."}`);
  });

  it('extracts the action after Action: like the AgentGym client', async () => {
    const session = open();
    await session.reset(0);
    const result = await session.step('Thought: the water first.\nAction: focus on water');
    expect(callsTo(server.calls, '/step').at(-1)!.body).toEqual({
      id: session.envId,
      action: 'focus on water',
    });
    expect(result.reward).toBe(0.25);
  });

  it('reports an out-of-range task and an unknown id from their {"error"} bodies', async () => {
    const session = open();
    const error = await rejection(session.reset(999));
    expect(error).toMatchObject({ kind: 'env-error', attempts: 1 });
    expect((error as Error).message).toContain('list index out of range');
    expect(await rejection(open(777).reset(0))).toMatchObject({ kind: 'invalid-id' });
  });

  it('retries a {"error"} from /create (a JVM that failed to start), but not one from /step', async () => {
    server.setFaults({ errorOnce: { path: '/create', message: 'java gateway process exited' } });
    const before = callsTo(server.calls, '/create').length;
    const session = open();
    await session.reset(0);
    expect(callsTo(server.calls, '/create')).toHaveLength(before + 2);
  });

  it('closes on v2025, tolerates its 500 for an unknown id and the 404 of v2024', async () => {
    const session = open();
    const id = await session.ensureCreated();
    await session.close();
    expect(server.envIds()).not.toContain(id);
    await open(id).close(); // HTTP 500 on the real server: tolerated
    expect(callsTo(server.calls, '/close').at(-1)!.status).toBe(500);
    const old = open(undefined, v2024.url);
    await old.reset(0);
    await old.close();
    expect(callsTo(v2024.calls, '/close').at(-1)!.status).toBe(404);
  });
});
