import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { solveGoal } from '../../../shared/env/crafting/solver';
import { defaultWorld } from '../../../shared/worlds/default';
import { type FakeTextCraftServer, startFakeTextCraft } from '../../../cli/bench/fakes/agentgym-textcraft';
import { craftingEngineGame } from '../../../cli/bench/fakes/crafting-engine-game';
import { hasTranscripts, minecraftWorld, readTranscripts, warnIfMissing } from '../crafting/shared-data';
import { FAST_RETRY, TIMEOUT_MS } from './helpers';

describe('fake TextCraft server backed by the crafting engine', () => {
  let server: FakeTextCraftServer;
  beforeAll(async () => {
    server = await startFakeTextCraft(); // default: the engine over the default world
  });
  afterAll(async () => {
    await server.close();
  });

  it('plays the default world through the AgentGym client to reward 1', async () => {
    const session = createAgentGymSession({
      baseUrl: server.url,
      flavor: 'textcraft',
      timeoutMs: TIMEOUT_MS,
      retry: FAST_RETRY,
    });
    for (const task of [0, 1, 5]) {
      const first = await session.reset(task);
      expect(first.observation).toMatch(/^Crafting commands:\n[\s\S]+\n\nGoal: craft .+\.$/);
      const goal = defaultWorld.goals[task % defaultWorld.goals.length]!;
      let last = first;
      for (const action of solveGoal(defaultWorld, goal)) last = await session.step(action);
      expect(last).toMatchObject({ reward: 1, done: true });
    }
  });
});

warnIfMissing(hasTranscripts, 'AgentGym client replay of real TextCraft transcripts');

describe.skipIf(!hasTranscripts)(
  'client + fake (engine over Minecraft 1.16.5 recipes) vs real TextCraft transcripts',
  () => {
    const transcripts = hasTranscripts ? readTranscripts() : [];
    let server: FakeTextCraftServer;
    beforeAll(async () => {
      const goals = new Map(transcripts.map((t) => [t.data_idx, t.goal]));
      // AgentGym's data indices follow its filesystem order; map them to the transcripts' goals.
      server = await startFakeTextCraft({
        game: craftingEngineGame(minecraftWorld(), { goalOf: (idx) => goals.get(idx) }),
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('reproduces every step up to done, then stops stepping', async () => {
      const session = createAgentGymSession({
        baseUrl: server.url,
        flavor: 'textcraft',
        timeoutMs: TIMEOUT_MS,
        retry: FAST_RETRY,
      });
      for (const transcript of transcripts) {
        const first = await session.reset(transcript.data_idx);
        expect(first.observation.endsWith(`\n\nGoal: craft ${transcript.goal}.`)).toBe(true);
        let final: unknown;
        for (const step of transcript.steps) {
          const result = await session.step(step.action);
          if (final !== undefined) expect(result).toEqual(final);
          else expect({ action: step.action, ...result }).toEqual(step);
          if (result.done) final ??= result;
        }
      }
    });
  },
);
