import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { ReplayDivergedError, restoreSession } from '../../../shared/env/replay';
import type { AgentGymFlavor, EnvSession, StepResult } from '../../../shared/env/types';
import { startFakeSciWorld } from '../../fakes/agentgym-sciworld';
import { startFakeTextCraft } from '../../../cli/bench/fakes/agentgym-textcraft';
import { scriptedTextCraftGame } from '../../../cli/bench/fakes/scripted-textcraft-game';
import { startFakeWebShop } from '../../fakes/agentgym-webshop';
import type { FakeServer } from '../../../cli/bench/fakes/fastapi-like';
import { FAST_RETRY, TIMEOUT_MS, rejection } from './helpers';

/** Per flavour: a task and a prefix of actions that does not end the episode. */
const PATHS: Record<AgentGymFlavor, { task: number; actions: string[] }> = {
  textcraft: {
    task: 1,
    actions: ['get 1 lapis lazuli', 'craft 1 blue dye using 1 lapis lazuli', 'inventory'],
  },
  webshop: { task: 0, actions: ['search[red]', 'click[b0003]', 'click[< prev]', 'click[b0001]'] },
  sciworld: { task: 1, actions: ['focus on seed', 'look around', 'move seed to flower pot'] },
};

describe('restoreSession', () => {
  const servers = new Map<AgentGymFlavor, FakeServer>();
  const open = (flavor: AgentGymFlavor) =>
    createAgentGymSession({
      baseUrl: servers.get(flavor)!.url,
      flavor,
      timeoutMs: TIMEOUT_MS,
      retry: FAST_RETRY,
    });

  beforeAll(async () => {
    servers.set('textcraft', await startFakeTextCraft({ game: scriptedTextCraftGame }));
    servers.set('webshop', await startFakeWebShop());
    servers.set('sciworld', await startFakeSciWorld());
  });
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
  });

  for (const flavor of ['textcraft', 'webshop', 'sciworld'] as const) {
    it(`${flavor}: reset + replay on another env id reaches the state of a straight run`, async () => {
      const { task, actions } = PATHS[flavor];
      const straight = open(flavor);
      await straight.reset(task);
      const observed: string[] = [];
      for (const action of actions) observed.push((await straight.step(action)).observation);

      const replica = open(flavor);
      await replica.reset((task + 1) % 2); // dirty it with another task first
      await replica.step(actions[0]!);
      const outcome = await restoreSession(replica, task, {
        snapshot: null,
        actions,
        expectedObservations: observed,
      });
      expect(replica.envId).not.toBe(straight.envId);
      expect(outcome.via).toBe('replay');
      expect(outcome.last?.observation).toBe(observed.at(-1));
      // Both continue identically.
      const next = flavor === 'webshop' ? 'click[buy now]' : 'inventory';
      expect(await replica.step(next)).toEqual(await straight.step(next));
    });
  }

  it('returns the reset result when there is nothing to replay', async () => {
    const session = open('textcraft');
    const outcome = await restoreSession(session, 0, { actions: [] });
    expect(outcome.last?.observation).toMatch(/Goal: craft blue dye\.$/);
  });

  it('fails clearly when the replay diverges (different observation, or done too early)', async () => {
    const session = open('textcraft');
    const wrong = rejection(
      restoreSession(session, 0, {
        actions: ['get 1 lapis lazuli'],
        expectedObservations: ['Got 2 lapis lazuli'],
      }),
    );
    expect(await wrong).toBeInstanceOf(ReplayDivergedError);
    const early = await rejection(
      restoreSession(session, 0, {
        actions: ['get 1 lapis lazuli', 'craft 1 blue dye using 1 lapis lazuli', 'inventory'],
      }),
    );
    expect(early).toMatchObject({ name: 'ReplayDivergedError', stepIndex: 2 });
  });

  it('restores from a snapshot when the env has one, without replaying', async () => {
    const env = new CounterEnv();
    await env.reset(0);
    await env.step('+');
    const snapshot = await env.snapshot();
    const other = new CounterEnv();
    const outcome = await restoreSession(other, 0, { snapshot, actions: ['+'] });
    expect(outcome).toEqual({ via: 'snapshot', last: null });
    expect(other.steps).toBe(0);
    expect((await other.step('+')).observation).toBe('2');
  });
});

/** A minimal snapshot-capable env. */
class CounterEnv implements EnvSession {
  count = 0;
  steps = 0;
  async reset(_task: number): Promise<StepResult> {
    this.count = 0;
    return { observation: '0', reward: 0, done: false };
  }
  async step(_action: string): Promise<StepResult> {
    this.steps++;
    this.count++;
    return { observation: String(this.count), reward: 0, done: false };
  }
  async snapshot(): Promise<string> {
    return JSON.stringify(this.count);
  }
  async restore(snapshot: string): Promise<void> {
    this.count = JSON.parse(snapshot);
  }
  async close(): Promise<void> {}
}
