import { createAgentGymSession } from '../../shared/env/agentgym';
import { isEnvError } from '../../shared/env/agentgym/errors';
import { createCraftingSession } from '../../shared/env/crafting/engine';
import type { EnvSession } from '../../shared/env/types';
import type { RunSpec } from '../../shared/contracts/run-spec';
import { capText, effectiveTextCap } from '../../shared/text-cap';
import type { CoreBindings } from './env';
import { JobInputError } from './job-input-error';
import { outboundRefusal } from './outbound';
import { loadWorld } from './worlds';
import { envPoolStub } from './durable-objects';

/** An environment session for one job, and how to give it back when the job is done. */
export interface LeasedEnv {
  session: EnvSession;
  /** Where the leased env is (step keys, shared/env/replay.ts) when it is on the way to `want`; else null. */
  position: string[] | null;
  /** `path`: where the env is left (kept for the next holder); null or absent when unknown. */
  release(outcome?: 'ok' | 'broken', path?: string[] | null): Promise<void>;
}

/** The position a job will put its env at: the task and the step keys of the node's path. */
export interface WantedPosition {
  task: number;
  keys: string[];
}

function onTheWay(path: readonly string[] | null, want: WantedPosition | undefined): path is string[] {
  return (
    !!path &&
    !!want &&
    path.length > 0 &&
    path.length <= want.keys.length &&
    path.every((key, i) => key === want.keys[i])
  );
}

export { JobInputError } from './job-input-error';

/** Opens the run's environment: the built-in crafting engine, or a pooled AgentGym session. */
export async function openEnvironment(
  env: CoreBindings,
  spec: RunSpec,
  holderId: string,
  want?: WantedPosition,
): Promise<LeasedEnv> {
  const cap = effectiveTextCap(spec.maxObservationChars, spec);
  if (spec.env === 'crafting') {
    const world = await loadWorld(env, spec.world);
    if (!world)
      throw new JobInputError(`unknown world "${spec.world}" (import it with agent-r world import)`);
    const session = capObservations(createCraftingSession(world), cap);
    return { session, position: null, release: async () => {} };
  }
  const server = spec.envServer!;
  const flavor = spec.flavor!;
  const refusal = outboundRefusal(env, server, 'envServer');
  if (refusal) throw new JobInputError(refusal);
  const pool = envPoolStub(env, server);
  const grant = await pool.lease(server, flavor, holderId, undefined, want?.keys);
  const position = grant.kind === 'use' && onTheWay(grant.path, want) ? grant.path : null;
  const gym = createAgentGymSession({
    baseUrl: server,
    flavor,
    ...(grant.kind === 'use' ? { envId: grant.envId } : {}),
    ...(position && want ? { positionedAt: want.task } : {}),
    // SciWorld is played as the reference plays it unless the run says otherwise.
    mapActions: flavor === 'sciworld' && spec.mapActions !== false,
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
    position,
    release: async (outcome = 'ok', path = null) => {
      await pool.release(grant.leaseId, outcome, outcome === 'ok' ? path : null);
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

/** Env failures that leave the session unusable: give the env id back as broken. */
export function releaseOutcomeFor(error: unknown): 'ok' | 'broken' {
  return isEnvError(error) ? 'broken' : 'ok';
}
