import { createAgentGymSession } from '../../shared/env/agentgym';
import { isEnvError } from '../../shared/env/agentgym/errors';
import { createCraftingSession } from '../../shared/env/crafting/engine';
import { restoreSession } from '../../shared/env/replay';
import type { EnvSession } from '../../shared/env/types';
import type { RunSpec } from '../../shared/contracts/run-spec';
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
  if (spec.env === 'crafting') {
    const world = await loadWorld(env, spec.world);
    if (!world)
      throw new JobInputError(`unknown world "${spec.world}" (import it with agent-r world import)`);
    const session = createCraftingSession(world);
    return { session, release: async () => {} };
  }
  const server = spec.envServer!;
  const flavor = spec.flavor!;
  const refusal = outboundRefusal(env, server, 'envServer');
  if (refusal) throw new JobInputError(refusal);
  const pool = envPoolStub(env, server);
  const grant = await pool.lease(server, flavor, holderId);
  const session = createAgentGymSession({
    baseUrl: server,
    flavor,
    ...(grant.kind === 'use' ? { envId: grant.envId } : {}),
  });
  if (grant.kind === 'create') {
    try {
      const envId = await session.ensureCreated();
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
