import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentGymSession } from '../../../shared/env/agentgym/session';
import { type EnvCost, moveAlongPath, pathKeys, ReplayDivergedError } from '../../../shared/env/replay';
import { type RealServer, realServersMissing, startRealServer } from '../../helpers/agentgym-servers';
import { rejection } from './helpers';

// moveAlongPath against the real AgentGym TextCraft server (../shared/vendor): an env already on
// the way to a node steps only what is missing; anything else is reset and replayed, and every
// observation is checked against the stored one.

const missing = realServersMissing();
if (missing) console.warn(`SKIPPED: moveAlongPath on the real TextCraft server: ${missing}`);

const TASK = 2;

describe.skipIf(missing !== null)('moveAlongPath on the real TextCraft server', () => {
  let server: RealServer | null = null;
  const path: { action: string; observation: string }[] = [];

  beforeAll(async () => {
    server = await startRealServer('textcraft');
    const straight = createAgentGymSession({ baseUrl: server.url, flavor: 'textcraft' });
    path.push({ action: '', observation: (await straight.reset(TASK)).observation });
    for (const action of ['inventory', 'get 1 lapis lazuli', 'inventory']) {
      path.push({ action, observation: (await straight.step(action)).observation });
    }
  }, 60_000);
  afterAll(async () => {
    await server?.kill();
  });

  const open = (envId?: number, positionedAt?: number) =>
    createAgentGymSession({
      baseUrl: server!.url,
      flavor: 'textcraft',
      ...(envId !== undefined ? { envId } : {}),
      ...(positionedAt !== undefined ? { positionedAt } : {}),
    });

  it('resets and replays when the position is unknown, then steps only what is missing', async () => {
    const session = open();
    const cost: EnvCost = { resets: 0, steps: 0 };
    const two = await moveAlongPath(session, TASK, path.slice(0, 3), null, cost);
    expect(cost).toEqual({ resets: 1, steps: 2 });
    expect(two).toEqual(pathKeys(TASK, path.slice(0, 3)));
    // A later holder adopts the env at that position (as the pool hands it over).
    const adopted = open(session.envId, TASK);
    const all = await moveAlongPath(adopted, TASK, path, two, cost);
    expect(cost).toEqual({ resets: 1, steps: 3 });
    expect(all).toEqual(pathKeys(TASK, path));
    // Already there: no call at all.
    await moveAlongPath(adopted, TASK, path, all, cost);
    expect(cost).toEqual({ resets: 1, steps: 3 });
    expect((await adopted.step('inventory')).observation).toBe(path[3]!.observation);
  });

  it('resets when the env is on another path or another task', async () => {
    const session = open();
    const cost: EnvCost = { resets: 0, steps: 0 };
    const elsewhere = pathKeys(TASK + 1, [{ action: '', observation: 'another goal' }]);
    await moveAlongPath(session, TASK, path.slice(0, 2), elsewhere, cost);
    expect(cost).toEqual({ resets: 1, steps: 1 });
  });

  it('fails with the reason when a replayed observation differs from the stored one', async () => {
    const session = open();
    const tampered = path.map((step, i) => (i === 2 ? { ...step, observation: 'something else' } : step));
    const error = await rejection(moveAlongPath(session, TASK, tampered, null, { resets: 0, steps: 0 }));
    expect(error).toBeInstanceOf(ReplayDivergedError);
    expect((error as Error).message).toContain(
      `action 2 ("get 1 lapis lazuli") observed ${JSON.stringify(path[2]!.observation)}, expected "something else"`,
    );
    expect((error as Error).message).toMatch(/not deterministic/);
  });
});
