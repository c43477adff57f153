import { createAgentGymSession } from '../../shared/env/agentgym';
import { isEnvError } from '../../shared/env/agentgym/errors';
import { createCraftingSession } from '../../shared/env/crafting/engine';
import { restoreSession } from '../../shared/env/replay';
import type { EnvSession } from '../../shared/env/types';
import type { RunSpec } from '../../shared/contracts/run-spec';
import { capText, DEFAULT_MAX_TEXT_CHARS } from '../../shared/text-cap';
import type { CoreBindings } from './env';
import { JobInputError } from './job-input-error';
import { outboundRefusal } from './outbound';
import { loadWorld } from './worlds';
import { envPoolStub } from './durable-objects';

/** An environment session for one job, and how to give it back when the job is done. */
export interface LeasedEnv {
  session: EnvSession;
  release(outcome?: 'ok' | 'broken'): Promise<void>;
}

export { JobInputError } from './job-input-error';

/** Opens the run's environment: the built-in crafting engine, or a pooled AgentGym session. */
export async function openEnvironment(
  env: CoreBindings,
  spec: RunSpec,
  holderId: string,
): Promise<LeasedEnv> {
  const cap = spec.maxObservationChars ?? DEFAULT_MAX_TEXT_CHARS;
  if (spec.env === 'crafting') {
    const world = await loadWorld(env, spec.world);
    if (!world)
      throw new JobInputError(`unknown world "${spec.world}" (import it with agent-r world import)`);
    const session = capObservations(createCraftingSession(world), cap);
    return { session, release: async () => {} };
  }
  const server = spec.envServer!;
  const flavor = spec.flavor!;
  const refusal = outboundRefusal(env, server, 'envServer');
  if (refusal) throw new JobInputError(refusal);
  const pool = envPoolStub(env, server);
  const grant = await pool.lease(server, flavor, holderId);
  const gym = createAgentGymSession({
    baseUrl: server,
    flavor,
    ...(grant.kind === 'use' ? { envId: grant.envId } : {}),
  });
  const session = capObservations(gym, cap);
  if (grant.kind === 'create') {
    try {
      const envId = await gym.ensureCreated();
      await pool.registerCreated(grant.leaseId, envId);
    } catch (error) {
      await pool.release(grant.leaseId, 'broken');
      throw error;
    }
  }
  return {
    session,
    release: async (outcome = 'ok') => {
      await pool.release(grant.leaseId, outcome);
    },
  };
}

/**
 * Every observation the session returns is cut to `cap` characters with a marker (an env that
 * answers with megabytes must not break the tree's storage); replays see the same cut text.
 */
function capObservations(session: EnvSession, cap: number): EnvSession {
  const capped = <T extends { observation: string }>(result: T): T => ({
    ...result,
    observation: capText(result.observation, cap, 'observation'),
  });
  return {
    reset: async (task) => capped(await session.reset(task)),
    step: async (action) => capped(await session.step(action)),
    snapshot: () => session.snapshot(),
    restore: (snapshot) => session.restore(snapshot),
    close: () => session.close(),
  };
}

/** Puts a session in the state of a tree node: from its snapshot, or reset + replay. */
export async function restoreToNode(
  session: EnvSession,
  task: number,
  actions: string[],
  snapshot: string | null,
) {
  return restoreSession(session, task, { snapshot, actions });
}

/** Env failures that leave the session unusable: give the env id back as broken. */
export function releaseOutcomeFor(error: unknown): 'ok' | 'broken' {
  return isEnvError(error) ? 'broken' : 'ok';
}
